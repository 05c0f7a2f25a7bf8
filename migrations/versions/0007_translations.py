"""offer texts in the reader's language: translators per language, outdated translations

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

PENDING = sa.text("status = 'pending'")


def upgrade():
    # the translations there are were written for the offers as they are: all up to date (0 = 0)
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('text_version', sa.Integer(), server_default='0', nullable=False))

    with op.batch_alter_table('offer_translations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_version', sa.Integer(), server_default='0', nullable=False))

    op.create_table('translator_languages',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('granted_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_translator_languages_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_translator_languages_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'locale', name=op.f('pk_translator_languages'))
    )

    op.create_table('translation_proposals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('locale', sa.String(length=8), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('source_version', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'approved', 'rejected', name='revisionstatus', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reason', sa.Text(), server_default='', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_translation_proposals_author_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decided_by_id'], ['users.id'], name=op.f('fk_translation_proposals_decided_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_translation_proposals_offer_id_offers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_translation_proposals'))
    )
    with op.batch_alter_table('translation_proposals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_translation_proposals_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index('ix_translation_proposals_status_created_at', ['status', 'created_at'], unique=False)
        batch_op.create_index('uq_translation_proposals_pending', ['offer_id', 'locale'], unique=True, sqlite_where=PENDING, postgresql_where=PENDING)


def downgrade():
    with op.batch_alter_table('translation_proposals', schema=None) as batch_op:
        batch_op.drop_index('uq_translation_proposals_pending', sqlite_where=PENDING, postgresql_where=PENDING)
        batch_op.drop_index('ix_translation_proposals_status_created_at')
        batch_op.drop_index(batch_op.f('ix_translation_proposals_offer_id'))

    op.drop_table('translation_proposals')
    op.drop_table('translator_languages')

    with op.batch_alter_table('offer_translations', schema=None) as batch_op:
        batch_op.drop_column('source_version')

    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('text_version')

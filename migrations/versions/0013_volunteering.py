"""volunteers helping at sessions

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('helpers_wanted', sa.Integer(), server_default='0', nullable=False))

    op.create_table('helpers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['session_id'], ['offer_sessions.id'], name=op.f('fk_helpers_session_id_offer_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_helpers_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_helpers')),
    sa.UniqueConstraint('session_id', 'user_id', name=op.f('uq_helpers_session_id_user_id'))
    )
    with op.batch_alter_table('helpers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_helpers_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('helpers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_helpers_user_id'))

    op.drop_table('helpers')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('helpers_wanted')

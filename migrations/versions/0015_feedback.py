"""one-tap feedback after a session

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('feedback',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('offer_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('face', sa.Enum('good', 'okay', 'not_good', name='face', native_enum=False, create_constraint=True, length=20), nullable=False),
    sa.Column('sentence', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['offer_id'], ['offers.id'], name=op.f('fk_feedback_offer_id_offers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['session_id'], ['offer_sessions.id'], name=op.f('fk_feedback_session_id_offer_sessions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_feedback_user_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
    sa.UniqueConstraint('user_id', 'session_id', name=op.f('uq_feedback_user_id_session_id'))
    )
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_feedback_offer_id'), ['offer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_feedback_session_id'), ['session_id'], unique=False)


def downgrade():
    with op.batch_alter_table('feedback', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_feedback_session_id'))
        batch_op.drop_index(batch_op.f('ix_feedback_offer_id'))

    op.drop_table('feedback')

"""certificates when earned, walk-ins over capacity, what a course covers

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 03:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('over_capacity', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('covers', sa.Text(), server_default='', nullable=False))


def downgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('covers')

    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_column('over_capacity')

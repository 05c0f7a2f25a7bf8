"""places held for the mix

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('held_places', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(
            sa.Column(
                'held_for',
                sa.Enum('newcomer', 'neighbour', 'unsaid', name='audience', native_enum=False,
                        create_constraint=True, length=20),
                server_default='neighbour',
                nullable=False,
            )
        )
        batch_op.add_column(sa.Column('held_days', sa.Integer(), server_default='7', nullable=False))
        batch_op.create_check_constraint('held_within_capacity', sa.text('held_places >= 0 AND held_places <= capacity'))
        batch_op.create_check_constraint('held_days_in_range', sa.text('held_days >= 0 AND held_days <= 60'))


def downgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_offers_held_days_in_range'), type_='check')
        batch_op.drop_constraint(op.f('ck_offers_held_within_capacity'), type_='check')
        batch_op.drop_constraint(op.f('ck_offers_audience'), type_='check')
        batch_op.drop_column('held_days')
        batch_op.drop_column('held_for')
        batch_op.drop_column('held_places')

"""family members booked by their household

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 07:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('household_of_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('age_group', sa.Enum('child', 'teen', 'adult', name='agegroup', native_enum=False, create_constraint=True, length=20), nullable=True))
        batch_op.create_index(batch_op.f('ix_users_household_of_id'), ['household_of_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_users_household_of_id_users'), 'users', ['household_of_id'], ['id'], ondelete='CASCADE')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_users_household_of_id_users'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_users_household_of_id'))
        batch_op.drop_constraint(batch_op.f('ck_users_agegroup'), type_='check')
        batch_op.drop_column('age_group')
        batch_op.drop_column('household_of_id')

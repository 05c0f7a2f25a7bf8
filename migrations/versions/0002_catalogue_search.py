"""catalogue text search

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('search_text', sa.Text(), server_default='', nullable=False))
    if op.get_bind().dialect.name == 'postgresql':
        # pg_trgm is a trusted extension: the database owner may create it.
        op.execute('CREATE EXTENSION IF NOT EXISTS pg_trgm')
        op.create_index('ix_offers_search_text_trgm', 'offers', ['search_text'], unique=False,
                        postgresql_using='gin', postgresql_ops={'search_text': 'gin_trgm_ops'})


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.drop_index('ix_offers_search_text_trgm', table_name='offers', postgresql_using='gin')
    with op.batch_alter_table('offers', schema=None) as batch_op:
        batch_op.drop_column('search_text')

"""desk people: corrections and merged duplicates

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 03:00:00

"""
import unicodedata

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def _name_key(name):
    """einstein.auth.names.name_key as it was when this migration was written (a migration
    must not change when the code does)."""
    decomposed = unicodedata.normalize("NFKD", name or "").casefold()
    return "".join(ch for ch in decomposed if ch.isalnum())[:120]


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=120), server_default='', nullable=False))
        batch_op.create_index(batch_op.f('ix_users_name_key'), ['name_key'], unique=False)

    # the names already there get their key, a thousand rows at a time
    connection = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('name_key', sa.String))
    last = 0
    while True:
        rows = connection.execute(
            sa.select(users.c.id, users.c.name).where(users.c.id > last).order_by(users.c.id).limit(1000)
        ).all()
        if not rows:
            break
        connection.execute(
            users.update().where(users.c.id == sa.bindparam('user_id')).values(name_key=sa.bindparam('key')),
            [{'user_id': row.id, 'key': _name_key(row.name)} for row in rows],
        )
        last = rows[-1].id


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_users_name_key'))
        batch_op.drop_column('name_key')

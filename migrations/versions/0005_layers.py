"""layers: messages of any kind and channel, counters within their places

The kind of a message is registered by the area that sends it, so the database no longer lists
the kinds; a message has a channel and, once sent, the address it went to. The place counters
can never pass the places (a CHECK on offers and sessions).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

KINDS = ('verify_email', 'password_reset', 'booking_confirmed', 'booking_waitlisted', 'booking_promoted',
         'booking_cancelled', 'session_changed', 'session_cancelled', 'offer_cancelled', 'reminder',
         'account_exists', 'contact_changed')


def upgrade():
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_notifications_notificationkind'), type_='check')
        batch_op.alter_column('kind', existing_type=sa.String(length=24), type_=sa.String(length=32),
                              existing_nullable=False)
        batch_op.add_column(sa.Column('channel', sa.String(length=16), server_default='email', nullable=False))
        batch_op.add_column(sa.Column('address', sa.String(length=254), nullable=True))
    for table in ('offers', 'offer_sessions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_check_constraint('confirmed_within_capacity', sa.text('confirmed_count <= capacity'))


def downgrade():
    for table in ('offers', 'offer_sessions'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(op.f(f'ck_{table}_confirmed_within_capacity'), type_='check')
    op.execute("DELETE FROM notifications WHERE channel <> 'email'")
    values = ", ".join(f"'{kind}'" for kind in KINDS)
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('address')
        batch_op.drop_column('channel')
        batch_op.alter_column('kind', existing_type=sa.String(length=32), type_=sa.String(length=24),
                              existing_nullable=False)
        batch_op.create_check_constraint('notificationkind', sa.text(f"kind IN ({values})"))

"""leases on batches of messages being sent (placeholder: filled in by the reminders work of issue 20)

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 09:45:00

"""


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

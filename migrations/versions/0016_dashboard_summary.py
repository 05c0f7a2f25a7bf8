"""summary rows for the dashboard (placeholder: filled in by the dashboard work of issue 20)

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 09:45:00

"""


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass

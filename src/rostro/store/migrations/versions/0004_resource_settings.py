"""Per-resource settings: sensitive attributes on or off (legacy version 4)."""

import sqlalchemy as sa
from alembic import op

# Tables frozen as they were created: a revision never imports the ORM classes.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "resource_settings",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("sensitive_attributes", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("resource_id"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
    )


def downgrade() -> None:
    raise NotImplementedError("Rostro migrations go forward only")

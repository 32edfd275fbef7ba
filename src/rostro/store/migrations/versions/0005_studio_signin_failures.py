"""Failed Studio sign-in attempts, one throttle for every process (legacy version 5)."""

import sqlalchemy as sa
from alembic import op

# Tables frozen as they were created: a revision never imports the ORM classes.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "studio_signin_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(80), nullable=False),
        sa.Column("attempted_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_studio_signin_failures_scope_time", "studio_signin_failures",
                    ["scope", "attempted_at"])


def downgrade() -> None:
    raise NotImplementedError("Rostro migrations go forward only")

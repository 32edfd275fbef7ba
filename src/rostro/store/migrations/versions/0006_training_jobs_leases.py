"""Training runs become leased jobs any server process performs: who holds a run until when
(``owner`` exists already), how many times it was claimed, and an index for finding due runs.

Rows that were ``running`` under the previous release have an owner and no expiry: they count
as due, so a run interrupted by the upgrade is performed after it.
"""

import sqlalchemy as sa
from alembic import op

# Columns frozen as they were added: a revision never imports the ORM classes.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("trainings", sa.Column("lease_expires_at", sa.Float(), nullable=True))
    op.add_column("trainings", sa.Column("attempts", sa.Integer(), nullable=False,
                                         server_default="0"))
    op.create_index("ix_trainings_status", "trainings", ["status"])


def downgrade() -> None:
    raise NotImplementedError("Rostro migrations go forward only")

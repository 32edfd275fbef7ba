"""Studio admin, sessions, resource descriptions; errors per minute (legacy version 2)."""

import sqlalchemy as sa
from alembic import op

# Tables frozen as they were created: a revision never imports the ORM classes.
revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

WHOLE_SECONDS = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "studio_admin",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "studio_sessions",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_studio_sessions_expires_at", "studio_sessions", ["expires_at"])
    op.create_table(
        "resource_descriptions",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("description", sa.String(500), nullable=False),
        sa.PrimaryKeyConstraint("resource_id"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "usage_errors",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("minute", WHOLE_SECONDS, nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", "minute", "kind"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
    )


def downgrade() -> None:
    raise NotImplementedError("Rostro migrations go forward only")

"""Resources, keys, usage counters, faceId cache (legacy version 1)."""

import sqlalchemy as sa
from alembic import op

# Tables frozen as they were created: a revision never imports the ORM classes.
revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Whole UNIX seconds: 64 bits on PostgreSQL too.
WHOLE_SECONDS = sa.Integer().with_variant(sa.BigInteger(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "resources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("tier", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("name"),
    )
    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("key_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "slot"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "usage_counters",
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("window", sa.String(8), nullable=False),
        sa.Column("start", WHOLE_SECONDS, nullable=False, autoincrement=False),
        sa.Column("calls", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("resource_id", "window", "start"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "face_ids",
        sa.Column("face_id", sa.String(36), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("recognition_model", sa.String(32), nullable=False),
        sa.Column("detection_model", sa.String(32), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("embedding_dim", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("face_id"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
    )
    op.create_index("ix_face_ids_resource_id", "face_ids", ["resource_id"])
    op.create_index("ix_face_ids_expires_at", "face_ids", ["expires_at"])


def downgrade() -> None:
    raise NotImplementedError("Rostro migrations go forward only")

"""Person groups, face lists, persons, faces, trainings, operations (legacy version 3)."""

import sqlalchemy as sa
from alembic import op

# Tables frozen as they were created: a revision never imports the ORM classes.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def sorted_string(length: int) -> sa.types.TypeEngine:
    """Compared byte by byte on every backend (``COLLATE "C"`` on PostgreSQL)."""
    return sa.String(length).with_variant(sa.String(length, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "face_containers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("container_id", sorted_string(64), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("user_data", sa.Text(), nullable=True),
        sa.Column("recognition_model", sa.String(32), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("face_seq", sa.Integer(), nullable=False),
        sa.Column("removed_since_train", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("resource_id", "kind", "container_id"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "persons",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sorted_string(36), nullable=False),
        sa.Column("container_pk", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("user_data", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("person_id"),
        sa.ForeignKeyConstraint(["container_pk"], ["face_containers.id"], ondelete="CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_persons_container_person", "persons", ["container_pk", "person_id"])
    op.create_table(
        "persisted_faces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("persisted_face_id", sorted_string(36), nullable=False),
        sa.Column("container_pk", sa.Integer(), nullable=False),
        sa.Column("person_pk", sa.Integer(), nullable=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("user_data", sa.Text(), nullable=True),
        sa.Column("detection_model", sa.String(32), nullable=False),
        sa.Column("left", sa.Integer(), nullable=False),
        sa.Column("top", sa.Integer(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("embedding", sa.LargeBinary(), nullable=False),
        sa.Column("embedding_dim", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("persisted_face_id"),
        sa.ForeignKeyConstraint(["container_pk"], ["face_containers.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["person_pk"], ["persons.id"], ondelete="CASCADE"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_persisted_faces_container_seq", "persisted_faces",
                    ["container_pk", "seq"])
    op.create_index("ix_persisted_faces_container_face", "persisted_faces",
                    ["container_pk", "persisted_face_id"])
    op.create_index("ix_persisted_faces_person_pk", "persisted_faces", ["person_pk"])
    op.create_table(
        "trainings",
        sa.Column("container_pk", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("again", sa.Boolean(), nullable=False),
        sa.Column("owner", sa.String(128), nullable=True),
        sa.Column("requested_at", sa.Float(), nullable=False),
        sa.Column("last_action_at", sa.Float(), nullable=False),
        sa.Column("last_success_at", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("snapshot", sa.String(32), nullable=True),
        sa.Column("trained_seq", sa.Integer(), nullable=True),
        sa.Column("trained_items", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("container_pk"),
        sa.ForeignKeyConstraint(["container_pk"], ["face_containers.id"], ondelete="CASCADE"),
    )
    op.create_table(
        "operations",
        sa.Column("operation_id", sa.String(36), nullable=False),
        sa.Column("resource_id", sa.Integer(), nullable=False),
        sa.Column("container_pk", sa.Integer(), nullable=True),
        sa.Column("run", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_action_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("operation_id"),
        sa.ForeignKeyConstraint(["resource_id"], ["resources.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["container_pk"], ["face_containers.id"], ondelete="SET NULL"),
    )
    op.create_index("ix_operations_resource_id", "operations", ["resource_id"])
    op.create_index("ix_operations_container_pk", "operations", ["container_pk"])


def downgrade() -> None:
    raise NotImplementedError("Rostro migrations go forward only")

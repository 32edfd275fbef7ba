"""The tables. Times are UNIX seconds (floats, UTC).

New tables (person groups, face lists, ...) subclass ``Base`` in their own module. The classes
describe the schema for queries only: tables are created and changed by the frozen revisions
of ``rostro.store.migrations`` (add one with every change here; tests/api/test_migrations.py
fails until the migrated schema and these classes agree). Column types are portable
(SQLite and PostgreSQL); ``SortedString`` and ``WholeSeconds`` are for the two places where
the backends differ.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeEngine


def SortedString(length: int) -> TypeEngine[str]:  # noqa: N802 (used like a type)
    """A string column compared and ordered byte by byte on every backend, for ids that
    Azure lists in order and pages with ``start``: SQLite's default; PostgreSQL's default
    collation follows the server's locale (in English, ``a_1`` before ``a-1`` before ``a01``,
    ``b`` before ``B``), so there it is ``COLLATE "C"``."""
    return String(length).with_variant(String(length, collation="C"), "postgresql")


#: Whole UNIX seconds (window starts): 64 bits on PostgreSQL too, whose INTEGER would end in
#: 2038 (SQLite's INTEGER is 64 bits already).
WholeSeconds = Integer().with_variant(BigInteger(), "postgresql")


class Base(DeclarativeBase):
    """Declarative base of every Rostro table."""


class Resource(Base):
    """A Face resource, as in the Azure portal: a name, a pricing tier and two keys."""

    __tablename__ = "resources"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    tier: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)


class ApiKey(Base):
    """Key 1 or key 2 of a resource. The key is kept (the portal shows it) along with its
    SHA-256, which is what requests are compared against, in constant time."""

    __tablename__ = "api_keys"
    __table_args__ = (UniqueConstraint("resource_id", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resource_id: Mapped[int] = mapped_column(ForeignKey("resources.id", ondelete="CASCADE"))
    slot: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[float] = mapped_column(Float)


class ResourceSettings(Base):
    """Per-resource switches. A resource without a row has every default (all features on)."""

    __tablename__ = "resource_settings"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    # Age, gender and emotion: operators who must not infer them turn them off (Azure's 403).
    sensitive_attributes: Mapped[bool] = mapped_column(Boolean, default=True)


class UsageCounter(Base):
    """Calls a resource made in one window: ``window`` is second, minute or month and
    ``start`` the window's first second."""

    __tablename__ = "usage_counters"

    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)
    start: Mapped[int] = mapped_column(WholeSeconds, primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)


class FaceIdEntry(Base):
    """A faceId returned by Detect: its face's embedding, kept until ``expires_at``."""

    __tablename__ = "face_ids"

    face_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    recognition_model: Mapped[str] = mapped_column(String(32))
    detection_model: Mapped[str] = mapped_column(String(32))
    embedding: Mapped[bytes] = mapped_column(LargeBinary)
    embedding_dim: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[float] = mapped_column(Float)
    expires_at: Mapped[float] = mapped_column(Float, index=True)

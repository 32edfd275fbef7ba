"""Resources and their two keys: create, list, show, regenerate, and authenticate a request.

A key is 32 hex digits, like Azure's. Requests are matched by comparing the SHA-256 of the
presented key with every stored key's SHA-256 using ``hmac.compare_digest``, without stopping
at the first match, so the time taken does not depend on how much of a key is right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from rostro.store.errors import AlreadyExists, InvalidName, NotFound
from rostro.store.locks import lock_global
from rostro.store.tables import ApiKey, Resource, ResourceSettings
from rostro.store.tiers import DEFAULT_TIER, TIERS

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{1,63}$")
DEFAULT_RESOURCE = "default"
KEY_SLOTS = (1, 2)


@dataclass(frozen=True)
class ResourceRef:
    """A resource as requests see it: id, name, tier and whether it answers age, gender and
    emotion (its sensitive-attributes setting)."""

    id: int
    name: str
    tier: str
    sensitive_attributes: bool = True


@dataclass(frozen=True)
class ResourceInfo:
    """A resource with its keys, as the portal's "Keys and Endpoint" page shows it."""

    id: int
    name: str
    tier: str
    key1: str
    key2: str
    created_at: float


def new_key() -> str:
    """Return a fresh random key: 32 lowercase hex digits (128 bits)."""
    return secrets.token_hex(16)


def _hash(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


def _check(name: str, tier: str) -> None:
    if not NAME_PATTERN.match(name):
        raise InvalidName(f"invalid resource name {name!r}: 2-64 letters, digits or hyphens, "
                          "starting with a letter or digit")
    if tier not in TIERS:
        raise InvalidName(f"unknown tier {tier!r}; known tiers: {', '.join(TIERS)}")


def create_resource(connection: Connection, name: str, tier: str = DEFAULT_TIER,
                    now: float | None = None) -> ResourceInfo:
    """Create resource ``name`` on ``tier`` with two new keys; AlreadyExists if taken."""
    _check(name, tier)
    now = time.time() if now is None else now
    lock_global(connection, "resources")
    if connection.execute(select(Resource.id).where(Resource.name == name)).first():
        raise AlreadyExists(f"resource {name!r} already exists")
    resource_id = connection.execute(
        insert(Resource).values(name=name, tier=tier, created_at=now).returning(Resource.id)).scalar_one()
    for slot in KEY_SLOTS:
        key = new_key()
        connection.execute(insert(ApiKey).values(
            resource_id=resource_id, slot=slot, key=key, key_hash=_hash(key), created_at=now))
    return get_resource(connection, name)


# One statement per read: without a database-wide lock, a resource deleted between two
# statements would leave the second without its keys.
_WITH_KEYS = (select(Resource.id, Resource.name, Resource.tier, Resource.created_at,
                     ApiKey.slot, ApiKey.key)
              .join(ApiKey, ApiKey.resource_id == Resource.id)
              .order_by(Resource.id, ApiKey.slot))


def _with_keys(rows) -> list[ResourceInfo]:
    found: dict[int, tuple] = {}
    keys: dict[int, dict[int, str]] = {}
    for row in rows:
        found.setdefault(row.id, (row.id, row.name, row.tier, row.created_at))
        keys.setdefault(row.id, {})[row.slot] = row.key
    return [ResourceInfo(rid, name, tier, keys[rid][1], keys[rid][2], created)
            for rid, name, tier, created in found.values()]


def get_resource(connection: Connection, name: str) -> ResourceInfo:
    """Return resource ``name`` with its keys; NotFound if there is none."""
    infos = _with_keys(connection.execute(_WITH_KEYS.where(Resource.name == name)))
    if not infos:
        raise NotFound(f"no resource named {name!r}")
    return infos[0]


def resource_name(connection: Connection, resource_id: int) -> str | None:
    """The name of the resource with row id ``resource_id`` (None if it was deleted)."""
    return connection.execute(select(Resource.name).where(Resource.id == resource_id)).scalar()


def list_resources(connection: Connection) -> list[ResourceInfo]:
    """Return every resource, oldest first."""
    return _with_keys(connection.execute(_WITH_KEYS))


def ensure_default(connection: Connection) -> tuple[ResourceInfo, bool]:
    """Return the first resource, creating ``default`` on F0 if there is none yet; the flag
    says whether it was created now. Several servers starting at once on a new database
    create one."""
    lock_global(connection, "resources")
    first = connection.execute(select(Resource.name).order_by(Resource.id).limit(1)).scalar()
    if first is not None:
        return get_resource(connection, first), False
    return create_resource(connection, DEFAULT_RESOURCE, DEFAULT_TIER), True


def regenerate_key(connection: Connection, name: str, slot: int,
                   now: float | None = None) -> ResourceInfo:
    """Replace key ``slot`` (1 or 2) of resource ``name``; the other key keeps working."""
    if slot not in KEY_SLOTS:
        raise InvalidName(f"key must be 1 or 2, not {slot}")
    resource = get_resource(connection, name)
    key = new_key()
    connection.execute(update(ApiKey)
                       .where(ApiKey.resource_id == resource.id, ApiKey.slot == slot)
                       .values(key=key, key_hash=_hash(key),
                               created_at=time.time() if now is None else now))
    return get_resource(connection, name)


def set_tier(connection: Connection, name: str, tier: str) -> ResourceInfo:
    """Move resource ``name`` to ``tier`` (its usage counters are kept)."""
    resource = get_resource(connection, name)
    _check(name, tier)
    connection.execute(update(Resource).where(Resource.id == resource.id).values(tier=tier))
    return get_resource(connection, name)


def sensitive_attributes_enabled(connection: Connection, resource_id: int) -> bool:
    """Return whether resource ``resource_id`` may answer age, gender and emotion (default on)."""
    value = connection.execute(select(ResourceSettings.sensitive_attributes)
                               .where(ResourceSettings.resource_id == resource_id)).scalar()
    return True if value is None else bool(value)


def set_sensitive_attributes(connection: Connection, name: str, enabled: bool) -> None:
    """Turn the sensitive attributes (age, gender, emotion) of resource ``name`` on or off."""
    lock_global(connection, "resources")  # the settings row is created if missing
    resource = get_resource(connection, name)
    exists = connection.execute(select(ResourceSettings.resource_id)
                                .where(ResourceSettings.resource_id == resource.id)).first()
    if exists:
        connection.execute(update(ResourceSettings)
                           .where(ResourceSettings.resource_id == resource.id)
                           .values(sensitive_attributes=enabled))
    else:
        connection.execute(insert(ResourceSettings).values(
            resource_id=resource.id, sensitive_attributes=enabled))


def delete_resource(connection: Connection, name: str) -> None:
    """Delete resource ``name`` with its keys, counters and faceIds."""
    resource = get_resource(connection, name)
    connection.execute(delete(Resource).where(Resource.id == resource.id))


_ALL_KEYS = (select(ApiKey.key_hash, Resource.id, Resource.name, Resource.tier,
                    ResourceSettings.sensitive_attributes)
             .join(Resource, Resource.id == ApiKey.resource_id)
             .outerjoin(ResourceSettings, ResourceSettings.resource_id == Resource.id)
             )  # built once: per-call path


def authenticate(connection: Connection, presented: str) -> ResourceRef | None:
    """Return the resource whose key 1 or key 2 is ``presented``, or None (constant time in
    the key's content)."""
    digest = _hash(presented)
    rows = connection.execute(_ALL_KEYS).all()
    found = None
    for row in rows:
        if hmac.compare_digest(digest, row.key_hash) and found is None:
            found = ResourceRef(row.id, row.name, row.tier,
                                row.sensitive_attributes is not False)  # no row: default on
    return found

"""Locks that make a read-then-write exact across processes sharing one PostgreSQL database.

On PostgreSQL, transactions run side by side at READ COMMITTED: each statement sees what was
committed before it started. A block that reads then writes (create a group if the id is free
and the resource has room) must therefore hold a lock that every other such block takes
first. Rostro uses three kinds, each as narrow as the data it guards (the full list of
transactions and their guards is in ``rostro.store.db``):

- a row lock on the resource or container the block writes into (``SELECT ... FOR NO KEY
  UPDATE``, in the repository that owns the table): blocks on other resources or containers
  never wait;
- conditional upserts for counters (``rostro.store.usage``): the row itself is the lock;
- ``lock_global`` for data that really is global (the list of resources, the Studio's
  account and sign-in throttle), where calls are rare (migrations hold a lock of their own,
  ``rostro.store.migrations.MIGRATION_LOCK``).

On SQLite these are no-ops: ``BEGIN IMMEDIATE`` already runs writers one at a time (and
SQLAlchemy leaves ``FOR UPDATE`` out of SQLite's statements).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

#: The first key of Rostro's advisory locks ("rost" in ASCII); the second names the scope.
#: Advisory locks belong to one database, so other databases on the server are not affected.
LOCK_CLASS = 0x726F7374
#: The global scopes: what each guards.
SCOPES = {
    "resources": 2,   # creating resources, the first 'default', per-resource settings rows
    "studio": 3,      # the Studio's admin password and its sign-in throttle
}
_LOCK = text("SELECT pg_advisory_xact_lock(:lock_class, :scope)")


def lock_global(connection: Connection, scope: str) -> None:
    """Hold the global lock ``scope`` (a key of SCOPES) until the transaction ends; other
    transactions that ask for it wait. Nothing on SQLite."""
    if connection.dialect.name == "postgresql":
        connection.execute(_LOCK, {"lock_class": LOCK_CLASS, "scope": SCOPES[scope]})

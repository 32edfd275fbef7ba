"""Alembic revisions of the Rostro schema, one file per revision (see rostro.store.migrations)."""

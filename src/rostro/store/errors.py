"""Errors of the storage room; the CLI prints them, the API maps them to Azure errors."""


class StoreError(Exception):
    """Base class for storage errors."""


class InvalidName(StoreError, ValueError):
    """A resource name or tier that the store does not accept."""


class NotFound(StoreError, LookupError):
    """The named object does not exist."""


class AlreadyExists(StoreError):
    """An object with that name already exists."""


class UnsupportedDatabase(StoreError, ValueError):
    """A database location Rostro cannot use: an unknown kind of database, or one whose
    driver is not installed."""


class SchemaError(StoreError):
    """The database's schema cannot be brought to this release's head (it records a version
    this release does not know: made by a newer release)."""

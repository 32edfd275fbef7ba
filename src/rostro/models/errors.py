"""Errors of the provisioning room."""


class ModelError(Exception):
    """Base class for model provisioning and loading errors."""


class ModelMissing(ModelError):
    """A model the engine needs is not in the cache. The message names the fixing command."""

    def __init__(self, name: str) -> None:
        super().__init__(
            f"model '{name}' is not provisioned; run `rostro models pull` "
            f"(or `rostro models pull --from DIR` on an air-gapped machine)"
        )
        self.name = name


class ProvisioningError(ModelError):
    """Fetching, verifying or converting an artifact failed; the cache was left untouched."""

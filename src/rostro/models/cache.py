"""The local model cache: one file per artifact plus a small record of where it came from."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rostro.config import models_dir
from rostro.models.errors import ModelMissing
from rostro.models.manifest import ARTIFACTS, Artifact


def sha256_file(path: Path) -> str:
    """Return the hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass(frozen=True)
class CacheEntry:
    """What ``rostro models list`` shows for one artifact."""

    artifact: Artifact
    path: Path
    present: bool
    size: int | None
    sha256: str | None


class ModelCache:
    """A folder of provisioned models (default ``$ROSTRO_MODELS`` / ``$ROSTRO_HOME/models``).

    ``artifacts`` is the manifest the cache serves (the pinned list by default; tests pass
    their own).
    """

    def __init__(self, root: Path | None = None, artifacts: tuple[Artifact, ...] = ARTIFACTS) -> None:
        self.root = Path(root) if root is not None else models_dir()
        self.artifacts = artifacts

    def artifact(self, name: str) -> Artifact:
        """Return the manifest entry called ``name``; KeyError naming the known ones."""
        for item in self.artifacts:
            if item.name == name:
                return item
        known = ", ".join(a.name for a in self.artifacts)
        raise KeyError(f"unknown model '{name}' (known: {known})")

    def path(self, name: str) -> Path:
        """Return where the artifact called ``name`` lives (whether present or not)."""
        return self.root / self.artifact(name).filename

    def require(self, name: str) -> Path:
        """Return the path of a provisioned artifact or raise ModelMissing naming the fix."""
        path = self.path(name)
        if not path.is_file():
            raise ModelMissing(name)
        return path

    def record(self, name: str) -> dict:
        """Return the provenance record written when the artifact was pulled ({} if none)."""
        record_path = self.path(name).with_suffix(".json")
        if not record_path.is_file():
            return {}
        return json.loads(record_path.read_text(encoding="utf-8"))

    def entries(self) -> list[CacheEntry]:
        """Return one entry per known artifact, present or missing."""
        entries = []
        for item in self.artifacts:
            path = self.root / item.filename
            present = path.is_file()
            entries.append(
                CacheEntry(
                    artifact=item,
                    path=path,
                    present=present,
                    size=path.stat().st_size if present else None,
                    sha256=self.record(item.name).get("sha256") if present else None,
                )
            )
        return entries

    def verify(self, name: str) -> bool:
        """Return True when the cached file still has the sha256 recorded at pull time."""
        path = self.require(name)
        return sha256_file(path) == self.record(name).get("sha256")

    def store(self, item: Artifact, data: bytes, provenance: dict) -> Path:
        """Write a converted artifact atomically, with its provenance record beside it."""
        self.root.mkdir(parents=True, exist_ok=True)
        final = self.root / item.filename
        digest = hashlib.sha256(data).hexdigest()
        record = dict(provenance, sha256=digest, size=len(data))
        _atomic_write(final, data)
        _atomic_write(final.with_suffix(".json"), json.dumps(record, indent=2).encode())
        return final


def _atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.chmod(temp, 0o644)  # mkstemp creates 0600; models are not secrets
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise

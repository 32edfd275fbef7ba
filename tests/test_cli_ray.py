"""`rostro detect --ray`: the same outputs as the single-process CLI, resumable, clear errors.

One local Ray instance (2 CPUs) serves the module and the CLI runs in this process on it, as a
notebook would: its workers load the models once for every test here.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from rostro.cli import main


@pytest.fixture(scope="module")
def photos(tmp_path_factory, astronaut, cameraman) -> Path:
    """Eight small photos (faces and none) and one unreadable file."""
    from skimage import data

    folder = tmp_path_factory.mktemp("photos")
    images = {
        "a_astronaut": astronaut, "b_flipped": astronaut[:, ::-1],
        "c_small": cv2.resize(astronaut, (256, 256)), "d_camera": cameraman,
        "e_coffee": data.coffee()[..., ::-1], "f_cat": data.chelsea()[..., ::-1],
        "g_dark": (astronaut * 0.4).astype(np.uint8), "h_wide": cv2.resize(astronaut, (640, 320)),
    }
    for name, image in images.items():
        cv2.imwrite(str(folder / f"{name}.jpg"), np.ascontiguousarray(image))
    (folder / "z_broken.jpg").write_bytes(b"not an image")
    return folder


@pytest.fixture(scope="module")
def ray_address(models_root):
    """The GCS address of a local Ray instance that this process holds for the module."""
    ray = pytest.importorskip("ray")
    from rostro.batch.ray_backend import AGENT_REGISTER_TIMEOUT_MS

    os.environ.setdefault("RAY_agent_register_timeout_ms", str(AGENT_REGISTER_TIMEOUT_MS))
    ray.init(num_cpus=2, include_dashboard=False, logging_level="WARNING")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


def _detect(capsys, *args) -> tuple[int, str, str]:
    code = main(["detect", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


ATTRIBUTES = ("--attributes", "headPose,age,glasses", "--landmarks")


def test_ray_writes_the_local_outputs_byte_for_byte(photos, ray_address, tmp_path, capsys,
                                                    monkeypatch):
    monkeypatch.chdir(tmp_path)  # relative input paths, as a user types them
    (tmp_path / "photos").symlink_to(photos)
    local_code, local_jsonl, local_err = _detect(capsys, "photos", "--format", "jsonl",
                                                 *ATTRIBUTES, "--annotate", "local")
    ray_code, ray_jsonl, ray_err = _detect(capsys, "photos", "--format", "jsonl", *ATTRIBUTES,
                                           "--annotate", "ray", "--ray", ray_address,
                                           "--shard-size", "3")
    assert (ray_code, local_code) == (3, 3)  # the broken file, reported the same way
    assert ray_jsonl == local_jsonl and len(local_jsonl.splitlines()) == 8
    assert ray_err.splitlines()[-1] == local_err.splitlines()[-1] == (
        "rostro: 1 of 9 images could not be read")
    assert _files(tmp_path / "ray") == _files(tmp_path / "local")
    assert len(_files(tmp_path / "ray")) == 8

    _detect(capsys, "photos", "--format", "csv", *ATTRIBUTES, "-o", "local.csv")
    _detect(capsys, "photos", "--format", "csv", *ATTRIBUTES, "-o", "ray.csv", "--ray", "auto",
            "--shard-size", "2")
    assert (tmp_path / "ray.csv").read_bytes() == (tmp_path / "local.csv").read_bytes()
    # Progress is deleted once the outputs are complete.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "local", "local.csv", "photos", "ray", "ray.csv"]


def test_an_interrupted_run_resumes_where_it_stopped(photos, ray_address, tmp_path, capsys,
                                                    monkeypatch):
    """The driver dies (here: interrupted) after three shards were saved; the same command
    again reads those three back, analyses the rest and writes the complete outputs."""
    from rostro.batch.shards import ShardStore

    reference = tmp_path / "reference.jsonl"
    _detect(capsys, photos, "--format", "jsonl", "-o", reference)
    out, progress = tmp_path / "out.jsonl", tmp_path / "out.jsonl.progress"
    args = [photos, "--format", "jsonl", "-o", out, "--annotate", tmp_path / "annotated",
            "--ray", ray_address, "--shard-size", "1"]
    save = ShardStore.save

    def save_three_then_die(store, index, records):
        if len(list(store.directory.glob("shard-*.jsonl"))) == 3:
            raise KeyboardInterrupt  # the driver stops before saving a fourth shard
        save(store, index, records)

    monkeypatch.setattr(ShardStore, "save", save_three_then_die)
    assert _detect(capsys, *args)[0] == 130
    monkeypatch.setattr(ShardStore, "save", save)
    finished = sorted(progress.glob("shard-*.jsonl"))
    assert len(finished) == 3 and sorted(p.name for p in tmp_path.iterdir()) == [
        "annotated", "out.jsonl.progress", "reference.jsonl"]  # no partial output

    # Mark one finished shard so the rerun shows it was read back, not analysed again.
    marked = next(json.loads(p.read_text()) for p in finished if "faces" in p.read_text())
    marked_line = json.dumps(marked)
    marked["faces"] = [{"faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4}}]
    for path in finished:
        if path.read_text().strip() == marked_line:
            path.write_text(json.dumps(marked) + "\n")
    code, _, err = _detect(capsys, *args)
    assert code == 3
    assert "3 of 9 shards already done" in err
    expected = [json.dumps(marked) if line == marked_line else line
                for line in reference.read_text().splitlines()]
    assert out.read_text().splitlines() == expected
    assert not progress.exists()
    assert len(list((tmp_path / "annotated").glob("*.annotated.png"))) == 8


def test_without_ray_the_error_names_the_extra(photos, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray imports
    code, out, err = _detect(capsys, photos, "--ray", "auto")
    assert code == 1 and out == ""
    assert err == "rostro: error: --ray needs Ray, which is not installed: pip install 'rostro[ray]'\n"


def test_an_address_without_a_cluster_is_one_clear_line(photos, tmp_path, capsys, monkeypatch):
    pytest.importorskip("ray")
    monkeypatch.chdir(tmp_path)
    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = _detect(capsys, photos, "--ray", f"127.0.0.1:{port}")
    assert code == 1 and len(err.splitlines()) == 1
    assert err.startswith(f"rostro: error: no Ray cluster at 127.0.0.1:{port}: ")
    assert list(tmp_path.iterdir()) == []  # no progress folder for a run that never started


def test_a_worker_without_models_names_its_node(tmp_path, photos, monkeypatch):
    """Workers never download: a node whose cache lacks a model says so (run in-process)."""
    from rostro.batch import ray_backend
    from rostro.batch.records import DetectOptions

    monkeypatch.setenv("ROSTRO_MODELS", str(tmp_path / "empty"))
    ray_backend._worker_analyzer.cache_clear()
    try:
        with pytest.raises(ray_backend.NodeModelsMissing, match="provision them on every node"):
            ray_backend.analyse_shard(("a_astronaut.jpg",), DetectOptions(), photos)
    finally:
        ray_backend._worker_analyzer.cache_clear()

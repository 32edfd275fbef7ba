"""`rostro detect --ray`: the same outputs as the single-process CLI, resumable, clear errors.

One local Ray instance (2 CPUs) serves the module: the CLI runs in this process on it (as a
notebook would), and once as a separate driver process that is killed mid-run.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from rostro.cli import main

REPO = Path(__file__).resolve().parents[1]


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


def test_a_killed_driver_resumes_where_it_stopped(photos, ray_address, tmp_path, capsys):
    reference = tmp_path / "reference.jsonl"
    _detect(capsys, photos, "--format", "jsonl", "-o", reference)
    out, progress = tmp_path / "out.jsonl", tmp_path / "out.jsonl.progress"
    args = ["detect", str(photos), "--format", "jsonl", "-o", str(out), "--annotate",
            str(tmp_path / "annotated"), "--ray", ray_address, "--shard-size", "1"]
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    driver = subprocess.Popen([sys.executable, "-m", "rostro.cli", *args], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while not list(progress.glob("shard-*.jsonl")) and driver.poll() is None:
        assert time.monotonic() < deadline, "the driver finished no shard in 60 s"
        time.sleep(0.02)
    driver.send_signal(signal.SIGKILL)
    driver.wait()
    finished = sorted(progress.glob("shard-*.jsonl"))
    assert finished and not out.exists()  # the output is complete or absent
    assert len(finished) < 9, driver.stderr.read().decode()

    # Mark one finished shard so the rerun shows it was read back, not analysed again.
    marked = json.loads(finished[0].read_text())
    if "faces" in marked:
        marked["faces"] = [{"faceRectangle": {"top": 1, "left": 2, "width": 3, "height": 4}}]
        finished[0].write_text(json.dumps(marked) + "\n")
    code, _, err = _detect(capsys, *args[1:])
    assert code == 3
    assert f"{len(finished)} of 9 shards already done" in err
    expected = [line if json.loads(line)["image"] != marked["image"] else json.dumps(marked)
                for line in reference.read_text().splitlines()]
    assert out.read_text().splitlines() == expected
    assert not progress.exists()
    assert len(list((tmp_path / "annotated").glob("*.annotated.png"))) == 8


def test_without_ray_the_error_names_the_extra(photos, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray imports
    code, out, err = _detect(capsys, photos, "--ray", "auto")
    assert code == 1 and out == ""
    assert err == "rostro: error: --ray needs Ray, which is not installed: pip install 'rostro[ray]'\n"


def test_an_address_without_a_cluster_is_one_clear_line(photos, capsys):
    pytest.importorskip("ray")
    with socket.socket() as probe:  # a loopback port that nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    code, _, err = _detect(capsys, photos, "--ray", f"127.0.0.1:{port}")
    assert code == 1 and len(err.splitlines()) == 1
    assert err.startswith(f"rostro: error: no Ray cluster at 127.0.0.1:{port}: ")


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

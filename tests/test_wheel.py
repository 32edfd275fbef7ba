"""An installed wheel behaves as the source checkout: build the wheel from this tree, install it
into a fresh virtual environment, and run `rostro detect`, `rostro eval` and `rostro notebook`
from a folder outside the checkout, without PYTHONPATH.

Nothing is downloaded: the wheel is built with the running environment's setuptools (no build
isolation), installed with ``--no-deps --no-index``, and the fresh environment reaches the
dependencies through a ``.pth`` line naming the running environment's site-packages (that
folder's own ``.pth`` files, such as an editable install of this checkout, are not read).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import cv2
import pytest

REPO = Path(__file__).resolve().parents[1]
SHIPPED_NOTEBOOKS = REPO / "src" / "rostro" / "notebooks"
# Training code that must stay out of the runtime package (it lives in rostro_training).
TRAINING_FILES = ("headfit.py", "train_heads.py", "wild_features.py", "merge_labels.py")


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: float = 120,
         ) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                            timeout=timeout)
    assert result.returncode == 0, f"{command[:3]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def _build_wheel(tmp: Path) -> Path:
    """Build the wheel from a copy of the tree's package sources (the checkout stays clean of
    build/ and egg-info); return its path."""
    source = tmp / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, source / name)
    shutil.copytree(REPO / "src", source / "src",
                    ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    # The PEP 517 hook pip and `python -m build` call, without their start-up cost.
    code = ("import sys, setuptools.build_meta as backend; "
            "print(backend.build_wheel(sys.argv[1]))")
    result = _run([sys.executable, "-c", code, str(tmp / "dist")], source, _clean_env())
    return tmp / "dist" / result.stdout.strip().splitlines()[-1]


def _clean_env(**values: str) -> dict[str, str]:
    """The process environment without PYTHONPATH, any virtual environment or Rostro settings,
    plus ``values``."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME") and not k.startswith("ROSTRO_")}
    return {**env, **values}


@pytest.fixture(scope="module")
def installed(tmp_path_factory, models_root):
    """(venv folder, environment, working folder outside the checkout) with the wheel installed."""
    pytest.importorskip("setuptools", minversion="77", reason="building needs setuptools>=77")
    tmp = tmp_path_factory.mktemp("wheel")
    wheel = _build_wheel(tmp)
    venv = tmp / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp, _clean_env())
    python = venv / "bin" / "python"
    purelib = Path(sysconfig.get_path("purelib", "venv", {"base": str(venv),
                                                          "platbase": str(venv)}))
    # The dependencies: the running environment's site-packages, after the venv's own.
    (purelib / "rostro-test-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
          "--no-index", "--ignore-installed", "--no-compile", "--disable-pip-version-check",
          str(wheel)], tmp, _clean_env())
    work = tmp / "work"
    work.mkdir()
    env = _clean_env(ROSTRO_HOME=str(tmp / "home"), ROSTRO_MODELS=str(models_root),
                     OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")
    return venv, purelib, env, work


def test_the_installed_package_is_the_wheel_without_training_code(installed):
    venv, purelib, env, work = installed
    code = ("import json, rostro, rostro_training.headfit as fit, rostro.evaluation.wild as wild; "
            "print(json.dumps({'rostro': rostro.__file__, 'training': fit.__file__, "
            "'tables': [fit.TABLES[t][1] for t in ('makeup', 'pool_makeup', 'wild_train')], "
            "'wild': str(wild.WILD_LABELS)}))")
    found = json.loads(_run([str(venv / "bin" / "python"), "-c", code], work, env).stdout)
    assert Path(found["rostro"]).is_relative_to(purelib)  # not src/ of the checkout
    assert Path(found["training"]).is_relative_to(purelib)
    # Head fitting finds its labels in the installed package (package data).
    for label_file in (*found["tables"], found["wild"]):
        assert Path(label_file).is_relative_to(purelib) and Path(label_file).is_file()
    package = purelib / "rostro"
    assert not [p for p in package.rglob("*") if p.name in TRAINING_FILES or p.suffix == ".csv"]
    assert {p.name for p in (package / "notebooks").glob("*.ipynb")} == \
        {p.name for p in SHIPPED_NOTEBOOKS.glob("*.ipynb")}


def test_installed_detect_prints_json_and_loads_no_training_code(installed, astronaut):
    venv, purelib, env, work = installed
    cv2.imwrite(str(work / "astronaut.jpg"), astronaut)
    # -X importtime lists every module the command loads (on stderr).
    result = _run([str(venv / "bin" / "rostro"), "detect", "astronaut.jpg"], work,
                  {**env, "PYTHONPROFILEIMPORTTIME": "1"})
    faces = json.loads(result.stdout)
    assert len(faces) == 1 and set(faces[0]["faceRectangle"]) == {"top", "left", "width",
                                                                   "height"}
    loaded = [line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
              if line.startswith("import time:")]
    assert "rostro.evaluation.attribute_accuracy" in loaded  # the list is real: every parser loads
    assert not [name for name in loaded if name.split(".")[0] == "rostro_training"]


def test_installed_eval_reads_real_data(installed, eval_data):
    venv, purelib, env, work = installed
    data = eval_data("detection")
    _run([str(venv / "bin" / "rostro"), "eval", "detection", "--data", str(data), "--limit", "2",
          "--json", "detection.json"], work, env)
    report = json.loads((work / "detection.json").read_text())
    assert report["images"] == 2 and report["faces"] > 0 and report["rows"]


def test_installed_notebook_copies_the_notebooks_and_keeps_edits(installed):
    """`rostro notebook --no-launch` fills ./rostro-notebooks with the shipped notebooks it
    lacks and leaves a copy the user edited alone."""
    venv, purelib, env, work = installed
    names = sorted(p.name for p in SHIPPED_NOTEBOOKS.glob("*.ipynb"))
    assert len(names) == 2
    folder = work / "rostro-notebooks"
    folder.mkdir()
    (folder / names[0]).write_text("my edits")
    out = _run([str(venv / "bin" / "rostro"), "notebook", "--no-launch"], work, env).stdout
    assert f"Copied {names[1]} into {folder}" in out
    assert f"Kept your copies of {names[0]} in {folder}" in out
    assert (folder / names[0]).read_text() == "my edits"
    assert (folder / names[1]).read_bytes() == (SHIPPED_NOTEBOOKS / names[1]).read_bytes()

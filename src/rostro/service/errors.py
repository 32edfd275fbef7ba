"""The service room's errors: what went wrong while choosing the face to enrol.

``rostro.api.errors.room_error`` maps each to Azure's answer (and the image errors of
``rostro.vision.errors`` with them), once.
"""

from __future__ import annotations


class ServiceError(Exception):
    """Base class of this room's errors."""


class EnrollmentError(ServiceError):
    """The face to add could not be chosen."""


class NoFace(EnrollmentError):
    """No face found in the image (or, with a target rectangle, none at that place)."""


class SeveralFaces(EnrollmentError):
    """More than one face in the image and no target rectangle to choose one."""


class TargetOutsideImage(EnrollmentError):
    """The target rectangle has no part inside the image."""

"""Inference only: numpy images in, frozen dataclasses out. No HTTP, no database."""

from rostro.vision.analyzer import Analyzer, Request
from rostro.vision.errors import ImageError, VisionError
from rostro.vision.types import Box, Face, HeadPose, Point

__all__ = ["Analyzer", "Box", "Face", "HeadPose", "ImageError", "Point", "Request", "VisionError"]

"""Errors of the inference room; the API maps them to Azure's error codes."""


class VisionError(Exception):
    """Base class for inference errors."""


class ImageError(VisionError):
    """The bytes are not an image we can decode (Azure: InvalidImage)."""


class ImageTooLarge(ImageError):
    """The image's dimensions exceed the limit (checked from the header, before decoding)."""

"""Decoding image bytes into BGR arrays, with limits checked before any pixel is decoded."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from rostro.vision.errors import ImageError, ImageTooLarge

FORMATS = ("JPEG", "PNG", "GIF", "BMP")
MAX_SIDE = 4096


def decode_image(data: bytes, max_side: int = MAX_SIDE, formats: tuple[str, ...] = FORMATS) -> np.ndarray:
    """Decode JPEG, PNG, GIF (first frame) or BMP bytes into a BGR uint8 array (H, W, 3).

    The header is read first: an image that claims a side over ``max_side`` raises
    ImageTooLarge without being decoded (no decompression bombs). EXIF orientation is applied,
    so phone photos come out upright. Anything else unreadable raises ImageError.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=list(formats))
            width, height = picture.size
            if width > max_side or height > max_side:
                raise ImageTooLarge(f"image is {width}x{height}; the limit is {max_side}x{max_side}")
            picture.seek(0)
            picture = ImageOps.exif_transpose(picture.convert("RGB"))
    except ImageTooLarge:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses huge pixel counts from the header, before our side check runs.
        raise ImageTooLarge(f"image is too large: {exc}") from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageError(f"cannot decode image: {exc}") from exc
    rgb = np.asarray(picture, dtype=np.uint8)
    return np.ascontiguousarray(rgb[..., ::-1])


def read_image(path: str, max_side: int = MAX_SIDE) -> np.ndarray:
    """Read and decode an image file (see ``decode_image``); OSError if it cannot be read."""
    with open(path, "rb") as handle:
        return decode_image(handle.read(), max_side=max_side)

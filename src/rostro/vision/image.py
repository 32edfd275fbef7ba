"""Decoding image bytes into BGR arrays, with limits checked before any pixel is decoded.

Decoding is as tolerant as a browser: a JPEG cut short or missing its end marker, corrupt
metadata (EXIF, a colour profile or text chunk over Pillow's 1 MB safety limits, a bad CRC on
an ancillary PNG chunk) still give the pixels there are. Only bytes from which no pixel can be
had are refused. The size limits (sides, pixel count) are checked from the header first, so
the tolerance never reaches a decompression bomb.
"""

from __future__ import annotations

import io
import logging
import struct
import threading
import warnings
from contextlib import contextmanager

import cv2
import numpy as np
from PIL import Image, ImageFile, UnidentifiedImageError

from rostro.vision.errors import ImageError, ImageTooLarge

log = logging.getLogger(__name__)

FORMATS = ("JPEG", "PNG", "GIF", "BMP")
MAX_SIDE = 4096

# What Pillow raises on bytes it cannot (fully) read.
_DECODE_ERRORS = (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError,
                  IndexError, KeyError, TypeError, struct.error)

# EXIF orientation (tag 0x0112) -> the transposition that makes the picture upright.
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
            4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
            6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}
ORIENTATION_TAG = 0x0112

# Pillow's tolerance switch is a module global. It is turned on only around the second,
# tolerant attempt, and the lock keeps two such attempts from restoring it under each other.
_TOLERANT = threading.Lock()


@contextmanager
def _tolerant_pillow():
    """Let Pillow load truncated data and skip bad ancillary chunks for the enclosed call."""
    with _TOLERANT:
        saved = ImageFile.LOAD_TRUNCATED_IMAGES
        ImageFile.LOAD_TRUNCATED_IMAGES = True
        try:
            yield
        finally:
            ImageFile.LOAD_TRUNCATED_IMAGES = saved


def _open(data: bytes, max_side: int, formats: tuple[str, ...]) -> ImageFile.ImageFile:
    """Open ``data`` (header only) and check its size; ImageTooLarge or ImageError."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            picture = Image.open(io.BytesIO(data), formats=list(formats))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow refuses huge pixel counts from the header, before our side check runs.
        raise ImageTooLarge(f"image is too large: {exc}") from exc
    except _DECODE_ERRORS as exc:
        raise ImageError(f"cannot decode image: {exc}") from exc
    width, height = picture.size
    if width > max_side or height > max_side:
        raise ImageTooLarge(f"image is {width}x{height}; the limit is {max_side}x{max_side}")
    if width < 1 or height < 1:
        raise ImageError(f"image is {width}x{height}")
    return picture


def _header(data: bytes, max_side: int, formats: tuple[str, ...]) -> ImageFile.ImageFile:
    """``_open``, strict first, then tolerant of damaged ancillary chunks (a PNG text or
    colour-profile chunk over Pillow's 1 MB limit, a bad ancillary CRC)."""
    try:
        return _open(data, max_side, formats)
    except ImageTooLarge:
        raise
    except ImageError:
        with _tolerant_pillow():
            return _open(data, max_side, formats)


def image_pixels(data: bytes, max_side: int = MAX_SIDE, formats: tuple[str, ...] = FORMATS) -> int:
    """Return the pixel count ``data``'s header declares, from the header alone: 0 when the
    image is over the limits (decoding refuses it without decoding pixels), ``max_side``
    squared when the header does not read strictly (a tolerant decode may yet find pixels)."""
    try:
        width, height = _open(data, max_side, formats).size
    except ImageTooLarge:
        return 0
    except ImageError:
        return max_side * max_side
    return width * height


def _orientation(picture: Image.Image) -> int:
    """The EXIF orientation (1..8), 1 when absent or unreadable (corrupt EXIF is ignored)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "Corrupt EXIF data": ignored below anyway
            value = picture.getexif().get(ORIENTATION_TAG, 1)
    except Exception as exc:  # noqa: BLE001 - any EXIF parse failure means "no orientation"
        log.debug("unreadable EXIF ignored: %s", exc)
        return 1
    return value if isinstance(value, int) and value in _UPRIGHT else 1


def _rgb(picture: Image.Image) -> Image.Image:
    """Return the first frame as 8-bit RGB; 16-bit and 32-bit greys are scaled, not clipped."""
    if picture.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        grey = np.asarray(picture.convert("I"), dtype=np.int64)
        top = 65535 if picture.mode.startswith("I;16") or grey.max(initial=0) > 255 else 255
        grey8 = (np.clip(grey, 0, top) * 255 // top).astype(np.uint8)
        return Image.fromarray(grey8, "L").convert("RGB")
    if picture.mode == "F":
        grey = np.nan_to_num(np.asarray(picture, dtype=np.float32))
        scale = 255.0 if grey.max(initial=0.0) <= 1.0 else 1.0
        return Image.fromarray(np.clip(grey * scale, 0, 255).astype(np.uint8), "L").convert("RGB")
    if picture.mode == "RGB":  # converting would copy the whole picture for nothing
        picture.load()
        return picture
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # palette transparency given as bytes: harmless
        return picture.convert("RGB")


def _load(picture: Image.Image) -> tuple[Image.Image, int]:
    """Decode the first frame of an opened picture to RGB and read its orientation."""
    picture.seek(0)
    orientation = _orientation(picture)
    return _rgb(picture), orientation


def _jpeg_scan_data_present(data: bytes) -> bool:
    """Walk a JPEG's marker segments to its first scan: False when the bytes end before any
    scan data, True otherwise (also when the walk loses its way: the decoders decide)."""
    position = 2
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            return True
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte
            position += 1
            continue
        if marker == 0x01 or 0xD0 <= marker <= 0xD8:  # markers without a length
            position += 2
            continue
        end = position + 2 + int.from_bytes(data[position + 2:position + 4], "big")
        if marker == 0xDA:  # start of scan: pixel data follows its header
            return end < len(data)
        position = end
    return False


def _pixel_data_present(picture: ImageFile.ImageFile, data: bytes) -> bool:
    """Whether any byte of pixel data follows the headers (a tolerant decode of none gives
    a blank picture, which no browser would show: such bytes are refused)."""
    if picture.format == "JPEG":
        return _jpeg_scan_data_present(data)
    zlib_header = 2 if picture.format == "PNG" else 0  # the 2 bytes before any PNG row
    return bool(picture.tile) and picture.tile[0][2] + zlib_header < len(data)


def _opencv_fallback(data: bytes) -> np.ndarray | None:
    """OpenCV's decoders (libjpeg-turbo, libpng) as a last resort: they keep what they can
    of some streams Pillow gives up on. None when they find no pixels either."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    return image if image is not None and image.size else None


def decode_image(data: bytes, max_side: int = MAX_SIDE, formats: tuple[str, ...] = FORMATS) -> np.ndarray:
    """Decode JPEG, PNG, GIF (first frame) or BMP bytes into a BGR uint8 array (H, W, 3).

    The header is read first: an image that claims a side over ``max_side`` raises
    ImageTooLarge without being decoded (no decompression bombs). EXIF orientation is applied,
    so phone photos come out upright. A damaged file is decoded as far as its pixels go (a
    strict attempt, then a tolerant one, then OpenCV); ImageError when no pixels can be had.
    """
    # Limits first (ImageTooLarge), then whether there is any pixel data at all; both from
    # the headers, so neither depends on how tolerant the decoding below is.
    if not _pixel_data_present(_header(data, max_side, formats), data):
        raise ImageError("cannot decode image: no pixel data")
    try:
        rgb, orientation = _load(_open(data, max_side, formats))
    except (ImageError, *_DECODE_ERRORS) as strict:
        try:
            with _tolerant_pillow():
                rgb, orientation = _load(_open(data, max_side, formats))
            log.debug("damaged image decoded tolerantly: %s", strict)
        except ImageError:
            raise
        except _DECODE_ERRORS as tolerant:
            fallback = _opencv_fallback(data)  # the header was ours and within the limits
            if fallback is None:
                raise ImageError(f"cannot decode image: {tolerant}") from tolerant
            return fallback
    if orientation != 1:
        rgb = rgb.transpose(_UPRIGHT[orientation])
    pixels = np.array(rgb, dtype=np.uint8)  # one writable copy; the PIL image goes now
    del rgb
    return cv2.cvtColor(pixels, cv2.COLOR_RGB2BGR, dst=pixels)


def read_image(path: str, max_side: int = MAX_SIDE) -> np.ndarray:
    """Read and decode an image file (see ``decode_image``); OSError if it cannot be read."""
    with open(path, "rb") as handle:
        return decode_image(handle.read(), max_side=max_side)

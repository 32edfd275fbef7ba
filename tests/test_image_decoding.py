"""Tolerant decoding (rostro.vision.image): what a browser shows is decoded, the limits stay."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageFile

from rostro.vision.errors import ImageError, ImageTooLarge
from rostro.vision.image import decode_image, image_pixels


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    from skimage import data

    return data.astronaut()


def encode(rgb: np.ndarray, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    Image.fromarray(rgb).save(out, format=fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (struct.pack(">I", len(payload)) + kind + payload
            + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF))


def test_jpeg_without_end_marker_decodes_whole(rgb):
    whole = encode(rgb, "JPEG", quality=90)
    assert np.array_equal(decode_image(whole[:-2]), decode_image(whole))


def test_jpeg_cut_short_keeps_the_rows_that_arrived(rgb):
    whole = encode(rgb, "JPEG", quality=90)
    full, cut = decode_image(whole), decode_image(whole[:len(whole) // 2])
    assert cut.shape == full.shape
    top = slice(0, 64)
    assert np.abs(cut[top].astype(int) - full[top].astype(int)).mean() < 1


def test_corrupt_exif_is_ignored(rgb):
    exif = Image.Exif()
    exif[0x0112] = 6
    data = bytearray(encode(rgb, "JPEG", exif=exif))
    tiff = data.find(b"Exif\0\0") + 6
    data[tiff:tiff + 8] = b"\xee" * 8  # neither byte order nor offset: unreadable
    assert decode_image(bytes(data)).shape == (512, 512, 3)  # not rotated: no orientation


@pytest.mark.parametrize("chunk", [
    png_chunk(b"tEXt", b"Comment\0" + b"a" * 2_000_000),
    png_chunk(b"zTXt", b"Comment\0\0" + zlib.compress(b"a" * 2_000_000)),
    png_chunk(b"iCCP", b"icc\0\0" + zlib.compress(b"a" * 2_000_000)),
], ids=["text", "compressed-text", "icc-profile"])
def test_png_with_an_ancillary_chunk_over_1mb(rgb, chunk):
    plain = encode(rgb, "PNG")
    data = plain[:33] + chunk + plain[33:]
    assert np.array_equal(decode_image(data), decode_image(plain))


def test_sixteen_bit_grey_is_scaled_not_clipped():
    grey = (np.arange(256, dtype=np.uint16)[None, :].repeat(64, 0) * 257)
    out = io.BytesIO()
    Image.fromarray(grey).save(out, format="PNG")
    decoded = decode_image(out.getvalue())
    assert decoded[0, 0].tolist() == [0, 0, 0] and decoded[0, 255].tolist() == [255, 255, 255]
    assert abs(int(decoded[0, 128, 0]) - 128) <= 1


def test_tolerance_is_scoped_to_the_call(rgb):
    whole = encode(rgb, "JPEG", quality=90)
    decode_image(whole[:-100])
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
    with pytest.raises(OSError):  # Pillow itself stays strict for other code
        Image.open(io.BytesIO(whole[:-100])).load()


def test_no_pixels_is_refused(rgb):
    whole = encode(rgb, "JPEG", quality=90, comment=b"x" * 2000)
    with pytest.raises(ImageError):
        decode_image(whole[:whole.find(b"\xff\xda")])
    with pytest.raises(ImageError):
        decode_image(b"\xff\xd8\xff\xe0" + b"\0" * 2000)


def test_limits_hold_before_any_tolerance():
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 30000, 30000, 8, 2, 0, 0, 0))
    bomb = b"\x89PNG\r\n\x1a\n" + header + png_chunk(b"IDAT", b"\0" * 100)
    with pytest.raises(ImageTooLarge):
        decode_image(bomb)
    assert image_pixels(bomb) == 0


def test_image_pixels_reads_the_header(rgb):
    assert image_pixels(encode(rgb, "JPEG")) == 512 * 512
    assert image_pixels(b"not an image" * 100) == 4096 * 4096  # unknown: counted as the largest


def test_scan_marker_bytes_inside_metadata_do_not_fool_the_pixel_check(rgb):
    """The JPEG's segments are walked: a start-of-scan pattern inside an ICC profile is
    data, not the scan."""
    data = encode(rgb, "JPEG", quality=90, icc_profile=b"\xff\xda\xff\xff" * 100)
    assert decode_image(data).shape == (512, 512, 3)

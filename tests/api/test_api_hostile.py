"""A hostile-input corpus against the shared server: every case is generated here (Pillow,
OpenCV, numpy; no binary fixtures), sent as raw bytes and as a URL on the local image server,
and must get Azure's answer: the error code and message Azure gives, or 200 where a browser
would show the picture. Then the server must still serve.

Broken files a browser still shows (cut short, corrupt metadata, big ancillary chunks, a bad
CRC) decode; bytes with no pixels to be had are InvalidImage; formats Azure does not take
(WebP, TIFF...) are InvalidImage; sizes outside 1 KB..6 MB and sides over 4096 are
InvalidImageSize, decided before any pixel is decoded (bombs in every format).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import cv2
import numpy as np
import pytest
import requests
from api_service import STREAM
from PIL import Image

OK = (200, "", "")
FACE = (200, "face", "")  # 200 with the one face of the picture, upright
TOO_SMALL = (400, "InvalidImageSize", "Image size is too small.")
TOO_BIG = (400, "InvalidImageSize", "Image size is too big.")
INVALID = (400, "InvalidImage", "Decoding error, image format unsupported.")
MEDIA = (415, "BadArgument", "Invalid Media Type.")
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    """``make()`` gives the bytes; ``expected`` is (status, code, message), OK or FACE;
    ``content_type`` is the request's (raw only: URLs are always JSON)."""

    make: Callable[[], bytes]
    expected: tuple[int, str, str]
    content_type: str = STREAM["Content-Type"]
    by_url: bool = True


# ------------------------------------------------------------------------------ material

@cache
def face_rgb() -> np.ndarray:
    """skimage's astronaut at 256x256: one frontal face of about 90 px."""
    from skimage import data

    return np.asarray(Image.fromarray(data.astronaut()).resize((256, 256)))


@cache
def noise_rgb(side: int = 96) -> np.ndarray:
    """Noise, so that even small images stay over Azure's 1 KB minimum."""
    return np.random.default_rng(7).integers(0, 255, (side, side, 3), dtype=np.uint8)


def wide_noise() -> np.ndarray:
    """A strip one pixel wider than Azure's limit (noise keeps the files over 1 KB)."""
    return np.random.default_rng(3).integers(0, 255, (8, 4097, 3), dtype=np.uint8)


def save(picture: Image.Image | np.ndarray, fmt: str, **options) -> bytes:
    if isinstance(picture, np.ndarray):
        picture = Image.fromarray(picture)
    out = io.BytesIO()
    picture.save(out, format=fmt, **options)
    return out.getvalue()


def jpeg(**options) -> bytes:
    return save(face_rgb(), "JPEG", quality=options.pop("quality", 90), **options)


def png(**options) -> bytes:
    return save(face_rgb(), "PNG", **options)


def cv_png(pixels: np.ndarray) -> bytes:
    ok, encoded = cv2.imencode(".png", pixels)
    assert ok
    return encoded.tobytes()


def png_chunk(kind: bytes, payload: bytes, crc: int | None = None) -> bytes:
    value = zlib.crc32(kind + payload) & 0xFFFFFFFF if crc is None else crc
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", value)


def png_with(chunk: bytes, base: bytes | None = None) -> bytes:
    """A PNG with ``chunk`` inserted right after IHDR (signature 8 + IHDR 25 bytes)."""
    base = base or png()
    return base[:33] + chunk + base[33:]


def png_header(width: int, height: int, payload: int = 2048) -> bytes:
    """A PNG whose IHDR claims ``width`` x ``height`` (8-bit RGB), then zeros as IDAT."""
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    return b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IDAT", b"\0" * payload) + png_chunk(b"IEND", b"")


def png_zeros(side: int) -> bytes:
    """A real side x side greyscale PNG of zeros: tiny on disk, side^2 pixels decoded."""
    row = b"\0" + b"\0" * side
    ihdr = png_chunk(b"IHDR", struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0))
    data = zlib.compress(row * side, 9)
    return b"\x89PNG\r\n\x1a\n" + ihdr + png_chunk(b"IDAT", data) + png_chunk(b"IEND", b"")


def jpeg_claiming(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) is rewritten to claim ``width`` x ``height``."""
    data = bytearray(save(noise_rgb(), "JPEG", quality=90))
    sof = data.find(b"\xff\xc0")
    data[sof + 5:sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def gif_claiming(width: int, height: int) -> bytes:
    """A real GIF whose logical screen claims ``width`` x ``height``."""
    data = bytearray(save(noise_rgb(), "GIF"))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def bmp_claiming(width: int, height: int) -> bytes:
    """A real BMP whose info header claims ``width`` x ``height``."""
    data = bytearray(save(noise_rgb(), "BMP"))
    data[18:26] = struct.pack("<ii", width, height)
    return bytes(data)


def bmp_top_down() -> bytes:
    """A BMP stored top-down (negative height), as some writers do."""
    data = bytearray(save(np.ascontiguousarray(face_rgb()[::-1]), "BMP"))
    width, height = struct.unpack("<ii", data[18:26])
    data[22:26] = struct.pack("<i", -height)
    return bytes(data)


def with_exif(orientation: object, picture: np.ndarray | None = None) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    return save(face_rgb() if picture is None else picture, "JPEG", quality=90, exif=exif)


def rotated_with_orientation(orientation: int) -> bytes:
    """The face stored as a camera would store it for ``orientation``, with the tag that
    makes it upright again."""
    stored = {1: lambda a: a, 2: np.fliplr, 3: lambda a: np.rot90(a, 2), 4: np.flipud,
              5: lambda a: np.rot90(np.fliplr(a), 1), 6: lambda a: np.rot90(a, 1),
              7: lambda a: np.rot90(np.fliplr(a), 3), 8: lambda a: np.rot90(a, 3)}
    return with_exif(orientation, np.ascontiguousarray(stored[orientation](face_rgb())))


def corrupt_exif() -> bytes:
    """An EXIF block whose first IFD offset points far outside it."""
    data = bytearray(with_exif(6))
    tiff = data.find(b"Exif\0\0") + 6
    data[tiff + 4:tiff + 8] = b"\xff\xff\xff\x7f"
    return bytes(data)


def exif_garbage() -> bytes:
    data = bytearray(with_exif(6))
    tiff = data.find(b"Exif\0\0") + 6
    data[tiff:tiff + 8] = b"\xee" * 8
    return bytes(data)


def truncated(data: bytes, fraction: float) -> bytes:
    return data[:int(len(data) * fraction)]


def before_scan(data: bytes) -> bytes:
    """A JPEG cut just before its scan: headers and a comment, no pixel data."""
    return data[:data.find(b"\xff\xda")]


def flipped(data: bytes, start_fraction: float, count: int, seed: int = 1) -> bytes:
    """``data`` with ``count`` random bytes overwritten after ``start_fraction`` of it."""
    rng = np.random.default_rng(seed)
    out = bytearray(data)
    start = int(len(data) * start_fraction)
    for position in rng.integers(start, len(data) - 2, count):
        out[position] = int(rng.integers(0, 256))
    return bytes(out)


def padded(data: bytes, size: int) -> bytes:
    """``data`` with trailing zeros up to ``size`` bytes (decoders ignore them)."""
    return data + b"\0" * (size - len(data))


def animated_gif() -> bytes:
    frames = [Image.fromarray(face_rgb()), Image.fromarray(noise_rgb(256)),
              Image.fromarray(255 - face_rgb())]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100,
                   loop=0)
    return out.getvalue()


def apng() -> bytes:
    frames = [Image.fromarray(face_rgb()), Image.fromarray(noise_rgb(256))]
    out = io.BytesIO()
    frames[0].save(out, format="PNG", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def rgba(alpha: int) -> np.ndarray:
    pixels = np.dstack([face_rgb(), np.full(face_rgb().shape[:2], alpha, np.uint8)])
    return pixels


def random_bytes(size: int, prefix: bytes = b"") -> bytes:
    noise = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    return prefix + noise[len(prefix):]


def big_comment_jpeg() -> bytes:
    """A JPEG with 20 APP segments of 60 KB each (1.2 MB of metadata) before its pixels."""
    data = jpeg()
    segment = b"\xff\xe9" + struct.pack(">H", 60002) + b"\x00" * 60000
    return data[:2] + segment * 20 + data[2:]


# --------------------------------------------------------------------------------- cases

CASES: dict[str, Case] = {
    # Ordinary pictures in each format and colour layout Azure takes.
    "jpeg-baseline": Case(jpeg, FACE),
    "jpeg-progressive": Case(lambda: jpeg(progressive=True), FACE),
    "jpeg-optimized": Case(lambda: jpeg(optimize=True), FACE),
    "jpeg-quality-5": Case(lambda: jpeg(quality=5), OK),
    "jpeg-444": Case(lambda: jpeg(subsampling=0), FACE),
    "jpeg-grey": Case(lambda: save(Image.fromarray(face_rgb()).convert("L"), "JPEG"), FACE),
    "jpeg-cmyk": Case(lambda: save(Image.fromarray(face_rgb()).convert("CMYK"), "JPEG"), FACE),
    "jpeg-icc-profile": Case(lambda: jpeg(icc_profile=b"\0" * 3000), FACE),
    "jpeg-1mb-of-app-segments": Case(big_comment_jpeg, FACE),
    "jpeg-comment": Case(lambda: jpeg(comment=b"hello " * 2000), FACE),
    "png-rgb": Case(png, FACE),
    "png-rgba-opaque": Case(lambda: save(rgba(255), "PNG"), FACE),
    "png-rgba-half": Case(lambda: save(rgba(128), "PNG"), OK),
    "png-rgba-transparent": Case(lambda: save(rgba(0), "PNG"), OK),
    "png-grey": Case(lambda: save(Image.fromarray(face_rgb()).convert("L"), "PNG"), FACE),
    "png-grey-alpha": Case(lambda: save(Image.fromarray(face_rgb()).convert("LA"), "PNG"), FACE),
    "png-palette": Case(lambda: save(Image.fromarray(face_rgb()).convert("P"), "PNG"), OK),
    "png-palette-transparency": Case(
        lambda: save(Image.fromarray(face_rgb()).convert("P"), "PNG", transparency=0), OK),
    "png-1-bit": Case(lambda: save(Image.fromarray(noise_rgb(256)).convert("1"), "PNG"), OK),
    "png-16-bit-grey": Case(
        lambda: cv_png(cv2.cvtColor(face_rgb(), cv2.COLOR_RGB2GRAY).astype(np.uint16) * 257),
        FACE),
    "png-16-bit-rgb": Case(lambda: cv_png(face_rgb()[..., ::-1].astype(np.uint16) * 257), FACE),
    "png-16-bit-rgba": Case(lambda: cv_png(
        cv2.cvtColor(face_rgb(), cv2.COLOR_RGB2BGRA).astype(np.uint16) * 257), FACE),
    "png-optimized": Case(lambda: png(optimize=True), FACE),
    "apng-first-frame": Case(apng, FACE),
    "gif": Case(lambda: save(face_rgb(), "GIF"), OK),
    "gif-animated-first-frame": Case(animated_gif, OK),
    "gif-transparent": Case(lambda: save(face_rgb(), "GIF", transparency=0), OK),
    "gif-interlaced": Case(lambda: save(face_rgb(), "GIF", interlace=True), OK),
    "bmp-24-bit": Case(lambda: save(face_rgb(), "BMP"), FACE),
    "bmp-32-bit": Case(lambda: save(rgba(255), "BMP"), FACE),
    "bmp-8-bit-palette": Case(lambda: save(Image.fromarray(face_rgb()).convert("P"), "BMP"), OK),
    "bmp-grey": Case(lambda: save(Image.fromarray(face_rgb()).convert("L"), "BMP"), FACE),
    "bmp-1-bit": Case(lambda: save(Image.fromarray(noise_rgb(256)).convert("1"), "BMP"), OK),
    "bmp-top-down": Case(bmp_top_down, FACE),
    # Camera orientation: stored turned, shown upright.
    **{f"exif-orientation-{n}": Case(lambda n=n: rotated_with_orientation(n), FACE)
       for n in range(1, 9)},
    "exif-orientation-0": Case(lambda: with_exif(0), FACE),
    "exif-orientation-9": Case(lambda: with_exif(9), FACE),
    "exif-orientation-65535": Case(lambda: with_exif(65535), FACE),
    "exif-ifd-offset-outside": Case(corrupt_exif, FACE),
    "exif-garbage-header": Case(exif_garbage, FACE),
    # Big or damaged ancillary PNG chunks (browsers ignore them).
    "png-text-2mb": Case(lambda: png_with(png_chunk(b"tEXt", b"Comment\0" + b"a" * 2 * MIB)),
                         FACE),
    "png-ztxt-2mb": Case(lambda: png_with(png_chunk(
        b"zTXt", b"Comment\0\0" + zlib.compress(b"a" * 2 * MIB))), FACE),
    "png-itxt-2mb": Case(lambda: png_with(png_chunk(
        b"iTXt", b"Comment\0\1\0\0\0" + zlib.compress(b"a" * 2 * MIB))), FACE),
    "png-icc-2mb": Case(lambda: png_with(png_chunk(
        b"iCCP", b"icc\0\0" + zlib.compress(b"a" * 2 * MIB))), FACE),
    "png-icc-not-zlib": Case(lambda: png_with(png_chunk(b"iCCP", b"icc\0\0" + b"x" * 500)), FACE),
    "png-ancillary-bad-crc": Case(lambda: png_with(png_chunk(b"tEXt", b"a\0b", crc=1)), FACE),
    "png-unknown-ancillary-chunk": Case(lambda: png_with(png_chunk(b"ruSt", b"x" * 5000)), FACE),
    "png-idat-bad-crc": Case(lambda: (lambda d: d[:-16] + b"\0\0\0\0" + d[-12:])(png()), FACE),
    "png-no-iend": Case(lambda: png()[:-12], FACE),
    "png-trailing-garbage": Case(lambda: png() + random_bytes(5000), FACE),
    # Cut short: the rows that arrived are shown.
    "jpeg-no-end-marker": Case(lambda: jpeg()[:-2], FACE),
    "jpeg-cut-at-90pc": Case(lambda: truncated(jpeg(), 0.9), OK),
    "jpeg-cut-at-50pc": Case(lambda: truncated(jpeg(), 0.5), OK),
    "jpeg-cut-at-20pc": Case(lambda: truncated(jpeg(), 0.2), OK),
    "jpeg-progressive-cut-at-50pc": Case(lambda: truncated(jpeg(progressive=True), 0.5), OK),
    "png-cut-at-90pc": Case(lambda: truncated(png(), 0.9), OK),
    "png-cut-at-50pc": Case(lambda: truncated(png(), 0.5), OK),
    "png-cut-in-idat-header": Case(lambda: (lambda d: d[:d.find(b"IDAT") + 6])(
        png_with(png_chunk(b"tEXt", b"Comment\0" + b"a" * 3000))), INVALID),
    "gif-cut-at-60pc": Case(lambda: truncated(save(face_rgb(), "GIF"), 0.6), OK),
    "bmp-cut-at-60pc": Case(lambda: truncated(save(face_rgb(), "BMP"), 0.6), OK),
    "apng-cut-at-60pc": Case(lambda: truncated(apng(), 0.6), OK),
    # Corrupt pixel data: decoded with artefacts, as browsers show it.
    "jpeg-corrupt-scan-10-bytes": Case(lambda: flipped(jpeg(), 0.3, 10), OK),
    "jpeg-corrupt-scan-1000-bytes": Case(lambda: flipped(jpeg(), 0.3, 1000), OK),
    "png-corrupt-idat": Case(lambda: flipped(png(), 0.5, 50), OK),
    "gif-corrupt-lzw": Case(lambda: flipped(save(face_rgb(), "GIF"), 0.5, 50), OK),
    "bmp-corrupt-pixels": Case(lambda: flipped(save(face_rgb(), "BMP"), 0.5, 500), OK),
    # No pixels to be had.
    "jpeg-headers-only": Case(lambda: before_scan(jpeg(comment=b"x" * 3000)), INVALID),
    "jpeg-cut-after-scan-header": Case(lambda: (lambda d: d[:d.find(b"\xff\xda") + 14])(
        jpeg(comment=b"x" * 3000)), INVALID),
    "jpeg-magic-then-noise": Case(lambda: random_bytes(4000, b"\xff\xd8\xff\xe0"), INVALID),
    "png-magic-then-noise": Case(lambda: random_bytes(4000, b"\x89PNG\r\n\x1a\n"), INVALID),
    "gif-magic-then-noise": Case(lambda: random_bytes(4000, b"GIF89a"), INVALID),
    "bmp-magic-then-noise": Case(lambda: random_bytes(4000, b"BM"), INVALID),
    "png-zero-size": Case(lambda: png_header(0, 0), INVALID),
    "noise": Case(lambda: random_bytes(5000), INVALID),
    "zeros": Case(lambda: b"\0" * 5000, INVALID),
    "text": Case(lambda: b"<html><body>not an image</body></html>" * 100, INVALID),
    "svg": Case(lambda: (b'<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64">'
                         b'<circle r="30"/></svg>' + b" " * 2000), INVALID),
    "json-body-as-stream": Case(lambda: b'{"url": "http://example.com/a.jpg"}' + b" " * 2000,
                                INVALID),
    # Formats browsers show but Azure does not take.
    "webp": Case(lambda: save(face_rgb(), "WEBP"), INVALID),
    "tiff": Case(lambda: save(face_rgb(), "TIFF"), INVALID),
    "ico": Case(lambda: save(face_rgb(), "ICO", sizes=[(128, 128)]), INVALID),
    "ppm": Case(lambda: save(face_rgb(), "PPM"), INVALID),
    "tga": Case(lambda: save(face_rgb(), "TGA"), INVALID),
    "jpeg2000": Case(lambda: save(face_rgb(), "JPEG2000"), INVALID),
    "pcx": Case(lambda: save(face_rgb(), "PCX"), INVALID),
    # Headers that lie about the size: refused from the header, no pixel decoded.
    "png-claims-30000x30000": Case(lambda: png_header(30000, 30000), TOO_BIG),
    "png-claims-4097x64": Case(lambda: png_header(4097, 64), TOO_BIG),
    "png-claims-64x4097": Case(lambda: png_header(64, 4097), TOO_BIG),
    "png-claims-2^31": Case(lambda: png_header(2**31 - 1, 2**31 - 1), TOO_BIG),
    "jpeg-claims-65000x65000": Case(lambda: jpeg_claiming(65000, 65000), TOO_BIG),
    "jpeg-claims-4097x16": Case(lambda: jpeg_claiming(4097, 16), TOO_BIG),
    "gif-claims-65535x65535": Case(lambda: gif_claiming(65535, 65535), TOO_BIG),
    "gif-claims-5000x10": Case(lambda: gif_claiming(5000, 10), TOO_BIG),
    "bmp-claims-50000x50000": Case(lambda: bmp_claiming(50000, 50000), TOO_BIG),
    "bmp-claims-4097x96": Case(lambda: bmp_claiming(4097, 96), TOO_BIG),
    "png-claims-100x100-holds-less": Case(lambda: png_header(100, 100, payload=3000), OK),
    "jpeg-claims-smaller-than-it-is": Case(lambda: jpeg_claiming(48, 48), OK),
    # Decompression bombs: small files, huge pictures.
    "png-bomb-4097-zeros": Case(lambda: png_zeros(4097), TOO_BIG),
    "png-4096-zeros-at-the-limit": Case(lambda: png_zeros(4096), OK),
    "gif-bomb-4097-wide": Case(lambda: save(wide_noise(), "GIF"), TOO_BIG),
    "bmp-bomb-4097-wide": Case(lambda: save(wide_noise(), "BMP"), TOO_BIG),
    "jpeg-bomb-4097-wide": Case(lambda: save(wide_noise(), "JPEG"), TOO_BIG),
    "webp-bomb-4097-wide": Case(lambda: save(wide_noise(), "WEBP"), INVALID),
    "gif-many-frames": Case(lambda: (lambda frames: (
        lambda out: (frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:]),
                     out.getvalue())[1])(io.BytesIO()))(
        [Image.fromarray(np.full((64, 64, 3), i, np.uint8)) for i in range(200)]), OK),
    # Sizes at Azure's limits (1 KB .. 6 MB).
    "1023-bytes": Case(lambda: jpeg()[:1023], TOO_SMALL),
    "1024-bytes-padded-jpeg": Case(lambda: padded(save(noise_rgb(8), "JPEG"), 1024), OK),
    "empty": Case(lambda: b"", TOO_SMALL),
    "6mb-exactly-padded-jpeg": Case(lambda: padded(jpeg(), 6 * MIB), FACE),
    "6mb-plus-1-byte": Case(lambda: padded(jpeg(), 6 * MIB + 1), TOO_BIG),
    "20mb": Case(lambda: padded(jpeg(), 20 * MIB), TOO_BIG),
    # Wrong content types for raw bytes (URL cases always send JSON).
    "content-type-image-jpeg": Case(jpeg, MEDIA, "image/jpeg", by_url=False),
    "content-type-image-png": Case(png, MEDIA, "image/png", by_url=False),
    "content-type-text-plain": Case(jpeg, MEDIA, "text/plain", by_url=False),
    "content-type-form": Case(jpeg, MEDIA, "application/x-www-form-urlencoded", by_url=False),
    "content-type-multipart": Case(jpeg, MEDIA, "multipart/form-data; boundary=x",
                                   by_url=False),
    "content-type-json-with-jpeg": Case(jpeg, (400, "BadArgument", "JSON parsing error."),
                                        "application/json", by_url=False),
    "content-type-stream-with-charset": Case(jpeg, FACE, "application/octet-stream; charset=x",
                                             by_url=False),
    "content-type-stream-upper-case": Case(jpeg, FACE, "Application/Octet-Stream", by_url=False),
}


@cache
def corpus_bytes(name: str) -> bytes:
    return CASES[name].make()


def answer(response: requests.Response) -> tuple[int, str, str]:
    """(status, code, message) of an error; (200, 'face'|'', '') for a success."""
    body = response.json()
    if response.status_code == 200:
        assert isinstance(body, list), body
        return (200, "face", "") if len(body) == 1 else (200, "", "")
    assert list(body) == ["error"] and list(body["error"]) == ["code", "message"], body
    return response.status_code, body["error"]["code"], body["error"]["message"]


def check(response: requests.Response, expected: tuple[int, str, str]) -> None:
    got = answer(response)
    if expected == OK:  # a picture is shown; whether a face is found does not matter
        assert got[0] == 200, response.text
    else:
        assert got == expected, response.text


def test_corpus_is_large_enough():
    assert len(CASES) >= 100
    assert sum(case.by_url for case in CASES.values()) >= 90


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_input(service, image_server, name):
    """Each case as raw bytes and, but for content-type cases, as a URL to the same bytes."""
    case = CASES[name]
    data = corpus_bytes(name)
    raw = service.detect("returnFaceId=false", data=data,
                         headers={"Content-Type": case.content_type})
    check(raw, case.expected)
    if case.by_url:
        image_server.files[f"corpus/{name}"] = data
        try:
            by_url = service.detect("returnFaceId=false",
                                    json={"url": image_server.url(f"corpus/{name}")})
        finally:
            del image_server.files[f"corpus/{name}"]
        check(by_url, case.expected)


def test_server_still_serves_after_the_corpus(service, images):
    assert service.process.poll() is None
    response = service.detect("returnFaceId=false", data=images["face.jpg"], headers=STREAM)
    assert response.status_code == 200 and len(response.json()) == 1

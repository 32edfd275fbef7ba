"""The image of a request: raw bytes (``application/octet-stream``, chunked or not) or a JSON
``{"url": ...}`` fetched with the safe fetcher; size limits as Azure's (1 KB to 6 MB).

Also the JSON body reader every operation uses: ``null`` fields count as absent and an empty
body is ``None`` (each operation decides whether that is acceptable).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TypeVar

import anyio.to_thread
from starlette.requests import Request

from rostro.api.errors import (
    image_too_big,
    image_too_small,
    invalid_body,
    invalid_media_type,
    invalid_url,
    json_parsing_error,
    room_error,
)
from rostro.service.errors import ServiceError
from rostro.service.state import ServiceState
from rostro.service.url_fetch import (
    FetchError,
    FetchRefused,
    FetchStatus,
    FetchTooLarge,
    fetch_bytes_async,
)
from rostro.vision.errors import ImageError
from rostro.vision.image import image_pixels

log = logging.getLogger(__name__)

Result = TypeVar("Result")

MIN_IMAGE_BYTES = 1024
MAX_IMAGE_BYTES = 6 * 1024 * 1024
MAX_JSON_BYTES = 1024 * 1024
# An oversized body is read to the end (and dropped) up to this size, so the client gets a
# clean JSON error instead of a reset connection; past it the connection is simply closed.
DRAIN_LIMIT = 64 * 1024 * 1024

JSON = "application/json"
STREAM = "application/octet-stream"


def media_type(request: Request) -> str:
    """Return the request's media type, lowercased, without parameters ('' if none)."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def image_media_type(request: Request) -> str:
    """Return JSON or STREAM for an image-carrying request; 415 for anything else."""
    kind = media_type(request)
    if kind not in (JSON, STREAM):
        raise invalid_media_type()
    return kind


async def read_body(request: Request, limit: int) -> bytes | None:
    """Return the body (chunked transfer included) if it is at most ``limit`` bytes;
    otherwise drain it and return None."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > DRAIN_LIMIT:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > DRAIN_LIMIT:
            break
        if size <= limit:
            chunks.append(chunk)
    return b"".join(chunks) if size <= limit else None


async def read_json_object(request: Request) -> dict[str, object] | None:
    """Return the JSON object in the body without its null fields, or None for an empty
    body. Raises BadArgument for malformed JSON or a body that is not an object."""
    raw = await read_body(request, MAX_JSON_BYTES)
    if raw is None:
        raise invalid_body()
    if not raw.strip():
        return None
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise json_parsing_error() from None
    if not isinstance(value, dict):
        raise invalid_body()
    return {key: item for key, item in value.items() if item is not None}


# Hosts remembered as already logged; past this many the memory starts over (a flood of
# distinct names cannot grow it, at worst a host is logged again).
MAX_REMEMBERED_HOSTS = 1024


def _remedy(host: str, server: str = "it") -> str:
    return (f"start {server} with --allow-private-urls, or with --allowed-hosts {host}, "
            "to allow it")


def refusal_message(exc: FetchRefused) -> str:
    """Azure's ``Invalid image URL.`` plus why this server refused the address and the
    options that allow it (the code and JSON shape stay Azure's)."""
    return f"Invalid image URL. {exc}, refused by this server; {_remedy(exc.host)}."


def _warn_once(exc: FetchRefused, state: ServiceState) -> None:
    """Log a refused host at WARNING the first time this process refuses it."""
    host = exc.host.lower()
    if host in state.refused_hosts:
        return
    if len(state.refused_hosts) >= MAX_REMEMBERED_HOSTS:
        state.refused_hosts.clear()
    state.refused_hosts.add(host)
    log.warning("image URL refused: %s; %s", exc, _remedy(exc.host, "the server"))


def _download_error(exc: FetchError, state: ServiceState):
    if isinstance(exc, FetchTooLarge):
        return image_too_big()
    if isinstance(exc, FetchRefused):
        if not exc.kind:
            return invalid_url()
        _warn_once(exc, state)
        return invalid_url(message=refusal_message(exc))
    if isinstance(exc, FetchStatus):
        return invalid_url(f"Response status code does not indicate success: {exc.status} "
                           f"({exc.reason}).")
    return invalid_url("An error occurred while sending the request.")


async def fetch_image(url: object, state: ServiceState) -> bytes:
    """Download the image at ``url`` under the service's policy, in one of the process's
    download slots (see ``DownloadSlots``) and within the policy's deadline."""
    if not isinstance(url, str) or not url.strip():
        raise invalid_url()
    try:
        async with state.downloads.hold(url.strip()):
            return await fetch_bytes_async(url.strip(), state.fetch_policy)
    except FetchError as exc:
        raise _download_error(exc, state) from None


def check_image_size(data: bytes) -> bytes:
    """Return ``data`` if its size is within 1 KB..6 MB; InvalidImageSize otherwise."""
    if len(data) < MIN_IMAGE_BYTES:
        raise image_too_small()
    if len(data) > MAX_IMAGE_BYTES:
        raise image_too_big()
    return data


async def request_image(request: Request, state: ServiceState) -> bytes:
    """Return the image bytes of a Detect/AddFace-style request: the octet-stream body, or
    the download of the JSON body's ``url``."""
    kind = image_media_type(request)
    if kind == STREAM:
        data = await read_body(request, MAX_IMAGE_BYTES)
        if data is None:
            raise image_too_big()
        return check_image_size(data)
    body = await read_json_object(request)
    if body is None:
        raise invalid_body()
    return check_image_size(await fetch_image(body.get("url"), state))


async def analyse_image(state: ServiceState, data: bytes, work: Callable[..., Result],
                        *args: object) -> Result:
    """Run ``work(*args)`` (the decoding and analysis of ``data``) in an inference thread
    once the image's pixels, read from its header, fit the process's pixel budget; memory
    is given back to the system when a burst of large images is over. Image and service
    errors leave as Azure's (``room_error``)."""
    # Off the event loop: a PNG's header may carry megabytes of compressed text to read.
    pixels = await anyio.to_thread.run_sync(image_pixels, data)
    async with state.pixels.hold(pixels):
        try:
            return await anyio.to_thread.run_sync(state.trimmer.run, pixels, work, *args,
                                                  limiter=state.inference)
        except (ImageError, ServiceError) as exc:
            raise room_error(exc) from None

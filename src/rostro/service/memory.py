"""Bounding the memory images take, and giving it back after a burst.

A 4096x4096 photo costs about 110 MB while it is decoded (Pillow's image and our array) and
50 MB while it is analysed; forty at once took a server past 1.2 GB, and glibc kept most of it
afterwards. ``PixelBudget`` lets images into decoding and analysis only while the pixels
already inside stay under a budget (first come, first served; an image larger than the whole
budget goes in alone). ``tune_allocator`` caps glibc's arenas (each thread that allocates
otherwise gets its own, and keeps it), and ``Trimmer`` returns free heap memory to the system
(``malloc_trim``) when the last image of a large burst is done. Off glibc both are no-ops.
(Mapping every buffer over 1 MiB on its own, M_MMAP_THRESHOLD, lowered the peak further but
cost a quarter of the throughput on large photos: page faults on every buffer.)
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import anyio

log = logging.getLogger(__name__)

Result = TypeVar("Result")

DEFAULT_PIXEL_BUDGET = 2 * 4096 * 4096  # two of the largest photos Azure accepts (~200 MB each)
M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)
ARENA_MAX = 4
# Trim after a burst only once this many pixels went through since the last trim, so a
# steady trickle of small images does not pay for a trim each.
TRIM_AFTER_PIXELS = 4096 * 4096


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has malloc_trim and mallopt), else None."""
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name or "libc.so.6")
        libc.malloc_trim, libc.mallopt  # noqa: B018 - both exist on glibc only
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def tune_allocator() -> bool:
    """Cap glibc's malloc arenas at four (fewer heaps to fragment and keep); True when
    applied (glibc), False elsewhere."""
    if _LIBC is None:
        return False
    return bool(_LIBC.mallopt(M_ARENA_MAX, ARENA_MAX))


def release_memory() -> bool:
    """Return free heap memory to the system (glibc's malloc_trim); True if any was."""
    return bool(_LIBC.malloc_trim(0)) if _LIBC is not None else False


class PixelBudget:
    """At most ``total`` pixels of images decoded and analysed at once in a process.

    Used from the event loop: ``async with budget.hold(pixels)`` waits, in arrival order,
    until the pixels fit (an image larger than ``total`` counts as ``total``)."""

    def __init__(self, total: int = DEFAULT_PIXEL_BUDGET) -> None:
        self.total = max(1, total)
        self.free = self.total
        self._waiting: deque[tuple[int, anyio.Event]] = deque()

    def in_use(self) -> int:
        """Pixels held now."""
        return self.total - self.free

    @asynccontextmanager
    async def hold(self, pixels: int) -> AsyncIterator[None]:
        """Hold ``pixels`` of the budget while inside."""
        need = min(max(pixels, 1), self.total)
        if self._waiting or need > self.free:
            entry = (need, anyio.Event())
            self._waiting.append(entry)
            try:
                await entry[1].wait()
            except BaseException:
                if entry in self._waiting:
                    self._waiting.remove(entry)
                else:  # granted while being cancelled: give it back
                    self._give_back(need)
                raise
        else:
            self.free -= need
        try:
            yield
        finally:
            self._give_back(need)

    def _give_back(self, pixels: int) -> None:
        self.free += pixels
        while self._waiting and self._waiting[0][0] <= self.free:
            need, event = self._waiting.popleft()
            self.free -= need
            event.set()


class Trimmer:
    """Runs image work in worker threads and calls ``release_memory`` when the last running
    piece of work ends after at least ``after_pixels`` pixels went through (a burst)."""

    def __init__(self, after_pixels: int = TRIM_AFTER_PIXELS) -> None:
        self.after_pixels = after_pixels
        self._lock = threading.Lock()
        self._running = 0
        self._pixels = 0
        self.trims = 0

    def run(self, pixels: int, work: Callable[..., Result], *args: object) -> Result:
        """Call ``work(*args)`` (in the calling worker thread) and trim if it ends a burst."""
        with self._lock:
            self._running += 1
            self._pixels += pixels
        try:
            return work(*args)
        finally:
            with self._lock:
                self._running -= 1
                burst_over = self._running == 0 and self._pixels >= self.after_pixels
                if burst_over:
                    self._pixels = 0
            if burst_over:
                release_memory()
                self.trims += 1

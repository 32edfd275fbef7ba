"""ONNX Runtime sessions configured for small CPU machines, and loading them once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar, cast

import onnxruntime as ort

from rostro.config import settings

T = TypeVar("T")


def default_threads() -> int:
    """Threads per model: ``$ROSTRO_THREADS`` or 1 (requests run in parallel instead)."""
    return settings().onnx_threads


def session(path: Path | bytes, threads: int | None = None) -> ort.InferenceSession:
    """Open an ONNX model (a file, or the serialized model itself) on the CPU.

    Spin-waiting is turned off: with several models run back to back on two cores, ONNX
    Runtime's spinning threads steal time from each other and roughly double latency.
    ``InferenceSession.run`` is thread-safe, so one session serves every request thread.
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or default_threads()
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    model = path if isinstance(path, bytes) else str(path)
    return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])


class LoadOnce:
    """Objects (networks, heads) built on first use, once, shared by every thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: dict[str, object] = {}

    def get(self, key: str, build: Callable[[], T]) -> T:
        """Return the object ``key``, calling ``build()`` the first time it is asked for.
        ``build`` must not ask this LoadOnce for another key (the lock is not re-entrant)."""
        value = self._built.get(key)
        if value is None:
            with self._lock:
                value = self._built.get(key)
                if value is None:
                    value = build()
                    self._built[key] = value
        return cast(T, value)  # one key, one builder: the object is what ``build`` returns

    def keys(self) -> frozenset[str]:
        """The keys built so far."""
        return frozenset(self._built)

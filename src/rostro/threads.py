"""How many BLAS and OpenMP threads a process uses, set through threadpoolctl.

Rostro parallelises across requests (server threads and workers) and across models (ONNX
Runtime's own pools, ``$ROSTRO_THREADS``), so a BLAS or OpenMP pool on top only contends: on two
cores a second OpenBLAS thread made one gallery search 30-90x slower and head fitting many
times slower. The default is therefore one thread per process (``$ROSTRO_BLAS_THREADS`` or
``rostro --blas-threads`` to change it). Environment variables such as OPENBLAS_NUM_THREADS
only work when set before numpy loads, which no module can promise; threadpoolctl changes the
pools of libraries already loaded, so the limit is applied where work starts (the CLI, each
server worker, the evaluation) and again when a library with its own pool (FAISS) is loaded.
OpenBLAS's count holds for the whole process; OpenMP's belongs to the OS thread that sets it,
which is why FAISS searches also set their own (rostro.search.hnsw).
"""

from __future__ import annotations

import logging

from threadpoolctl import threadpool_limits

from rostro.config import settings

log = logging.getLogger(__name__)


def limit_threads(count: int | None = None) -> int:
    """Limit every BLAS and OpenMP pool loaded in this process to ``count`` threads (default:
    the ``blas_threads`` setting); return the count applied. numpy and OpenCV (each wheel
    bundles its own OpenBLAS) are imported first so their pools are among them; libraries
    loaded later need another call."""
    import cv2  # noqa: F401  (loads OpenCV's OpenBLAS so the limit reaches it)
    import numpy  # noqa: F401  (likewise numpy's)

    count = count or settings().blas_threads
    threadpool_limits(limits=count)
    log.debug("BLAS/OpenMP threads limited to %d", count)
    return count

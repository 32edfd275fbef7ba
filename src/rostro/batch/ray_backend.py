"""The Ray backend of ``rostro detect --ray``: shards of files analysed on a Ray cluster.

The driver (the ``rostro detect`` process) cuts the files into shards and keeps a bounded
window of them running as Ray tasks. Each task analyses its files with ``analyse_file`` (the
same function as the local loop) on an analyzer that its worker process loads once, from that
node's own model cache: nothing is downloaded, so every node must have Rostro installed and its
models provisioned (`rostro models pull`), and must read the input paths (shared storage).
Workers return records; the driver writes every output (annotated images, the progress folder,
the JSON lines / CSV), in input order, so the result is the local CLI's, byte for byte.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
from collections import deque
from collections.abc import Iterator
from pathlib import Path

from rostro.batch.local import progress_bar
from rostro.batch.records import DetectOptions, Record, analyse_file, save_annotated
from rostro.batch.shards import Shard, ShardStore
from rostro.models.errors import ModelError
from rostro.threads import limit_threads
from rostro.vision.analyzer import Analyzer

log = logging.getLogger(__name__)

INSTALL_HINT = "pip install 'rostro[ray]'"
TASK_RETRIES = 3  # Ray reruns a task whose worker or node died this many times
CONNECT_TIMEOUT_S = 5.0


class RayBackendError(Exception):
    """The Ray backend cannot run or finish; the message says what to do."""


class RayNotInstalled(RayBackendError):
    """``--ray`` was given but the ray package is not importable."""


class RayUnreachable(RayBackendError):
    """No Ray cluster answers at the given address."""


class RayTaskFailed(RayBackendError):
    """A shard failed for good (after Ray's retries); finished shards are kept."""


class NodeModelsMissing(ModelError):
    """A worker node lacks a model: models are provisioned per node, never downloaded."""


def import_ray():
    """Return the ray module, or raise RayNotInstalled naming the extra to install."""
    try:
        import ray
    except ImportError:
        raise RayNotInstalled(f"--ray needs Ray, which is not installed: {INSTALL_HINT}") from None
    return ray


def _check_reachable(address: str) -> None:
    """Fail fast, in one line, when nothing listens at ``host:port`` (Ray itself keeps
    retrying, logging a warning every few seconds)."""
    if not _is_host_port(address):
        raise RayUnreachable(f"bad Ray address {address!r}: give HOST:PORT (the head node's address "
                             "that `ray start --head` prints) or 'auto'")
    try:
        host, _, port = address.rpartition(":")
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise RayUnreachable(f"no Ray cluster at {address}: {exc.strerror or exc}; start one with "
                             "`ray start --head` or use --ray auto") from None


#: How long a local instance's raylet waits for its agents (Ray's default: 15 s).
AGENT_REGISTER_TIMEOUT_MS = 120_000


def connect(address: str, local_cpus: int | None = None) -> bool:
    """Join the Ray cluster at ``address``; return whether this call started the session (the
    caller then shuts it down). 'auto': $RAY_ADDRESS, else a cluster started on this machine
    with `ray start`, else a new local instance (with ``local_cpus`` CPUs, default all). A
    session the calling process already holds (a notebook, the tests) is used as it is."""
    ray = import_ray()
    if address != "auto":
        _check_reachable(address)
    elif _is_host_port(os.environ.get("RAY_ADDRESS", "")):
        _check_reachable(os.environ["RAY_ADDRESS"])
    if ray.is_initialized():
        return False
    extra = {"num_cpus": local_cpus} if local_cpus else {}
    # A local instance's raylet gives its Python agents 15 s to register by default; on a
    # busy machine they take longer and the start fails ("timed out during startup").
    os.environ.setdefault("RAY_agent_register_timeout_ms", str(AGENT_REGISTER_TIMEOUT_MS))
    try:
        ray.init(address=None if address == "auto" else address, include_dashboard=False,
                 logging_level=logging.WARNING, **extra)
    except Exception as exc:  # Ray raises bare Exception when a local node fails to start
        where = "start or join Ray" if address == "auto" else f"join the Ray cluster at {address}"
        raise RayUnreachable(f"could not {where}: {_first_line(exc)}") from None
    return True


def _is_host_port(address: str) -> bool:
    host, _, port = address.rpartition(":")
    return bool(host) and port.isdigit() and "://" not in address


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


@functools.cache
def _worker_analyzer() -> Analyzer:
    """The analyzer of this worker process: models load once per process, from this node's
    cache, and serve every shard the process runs."""
    return Analyzer()


def analyse_shard(sources: tuple[str, ...], options: DetectOptions,
                  base_dir: Path) -> list[Record]:
    """Run on a Ray worker: the records of ``sources`` (relative paths under the driver's
    ``base_dir``), in order. A missing model raises NodeModelsMissing naming the node."""
    limit_threads()  # a Ray worker is a process of its own: one BLAS thread, as everywhere
    try:
        return [analyse_file(_worker_analyzer(), source, options, base_dir) for source in sources]
    except ModelError as exc:
        raise NodeModelsMissing(f"on Ray node {socket.gethostname()}: {exc}. Models are never "
                                "downloaded by workers: provision them on every node") from None


def _result(ray, ref, shard: Shard) -> list[Record]:
    """The records of a finished task; its failure as one of this module's errors."""
    try:
        return ray.get(ref)
    except ray.exceptions.RayTaskError as exc:
        cause = exc.cause
        if isinstance(cause, ModelError):
            raise cause from None
        raise RayTaskFailed(f"shard {shard.index} ({shard.sources[0]} ...) failed: "
                            f"{type(cause).__name__}: {cause}; finished shards are kept, rerun "
                            "the same command to resume") from None
    except ray.exceptions.RayError as exc:
        raise RayTaskFailed(f"shard {shard.index} ({shard.sources[0]} ...) failed after "
                            f"{TASK_RETRIES} retries: {_first_line(exc)}; finished shards are kept, "
                            "rerun the same command to resume") from None


def analyse_on_ray(shards: list[Shard], store: ShardStore, options: DetectOptions,
                   address: str, annotate_dir: Path | None, show_progress: bool,
                   local_cpus: int | None = None) -> Iterator[Record]:
    """Yield every record of ``shards`` in input order, analysing on Ray the shards that
    ``store`` (already opened) does not hold yet. A finished shard's annotated images are
    written, then the shard is saved to ``store``: a crash at any point loses no finished shard."""
    ray = import_ray()
    todo = deque(shard for shard in shards if not store.done(shard.index))
    finished_images = sum(len(s.sources) for s in shards) - sum(len(s.sources) for s in todo)
    bar = progress_bar(sum(len(s.sources) for s in shards), show_progress, finished_images)
    pending: dict = {}
    started = False
    try:
        if todo:  # a resumed run that has every shard needs no cluster
            started = connect(address, local_cpus)
            task = ray.remote(analyse_shard).options(num_cpus=1, max_retries=TASK_RETRIES)
            base_dir = Path.cwd()  # workers start elsewhere: relative paths are the driver's
            # Enough tasks queued to keep every CPU busy while the driver saves results, few
            # enough that results waiting for their turn in the output order stay bounded.
            window = 2 * max(1, int(ray.cluster_resources().get("CPU", 1)))
        for shard in shards:
            while not store.done(shard.index):
                while todo and len(pending) < window:
                    queued = todo.popleft()
                    pending[task.remote(queued.sources, options, base_dir)] = queued
                (ref,), _ = ray.wait(list(pending), num_returns=1)
                finished = pending.pop(ref)
                records = _result(ray, ref, finished)
                if annotate_dir is not None:
                    for record in records:
                        save_annotated(annotate_dir, record)
                store.save(finished.index, [r.without_image() for r in records])
                bar.update(len(finished.sources))
            yield from store.load(shard.index)
    finally:
        bar.close()
        for ref in pending:
            ray.cancel(ref)
        if started:
            ray.shutdown()

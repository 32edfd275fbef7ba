"""The training worker of one server process: performs the training runs any process queued.

Every `rostro serve` process (every uvicorn worker) runs one, SQLite or PostgreSQL alike. A
thread looks for due runs every ``poll`` seconds, or at once when this process queued one
(``wake``), claims them (``rostro.store.training.claim_training``) up to ``SLOTS`` at a time,
and performs each in its own thread (``rostro.service.galleries.train``). The same thread
renews the leases of the runs it holds every third of the lease, so only a process that stops
(killed, frozen, cut off from the database) lets a lease run out; then any process takes the
run over. On a clean stop the worker gives its runs back so others take them at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping

from rostro.config import settings
from rostro.search import GalleryStore
from rostro.service.galleries import Kind, train
from rostro.store import training
from rostro.store.db import Database

log = logging.getLogger(__name__)

#: Runs one process performs at once (each builds one gallery in memory).
SLOTS = 2
#: Default seconds between looks for due runs queued by other processes.
POLL = 1.0
#: Seconds a clean stop waits for the runs going on before giving them back.
STOP_GRACE = 2.0
#: Fault injection for tests only: seconds each run waits, holding its lease, before it reads
#: the faces (so a test can kill the process that holds a run). Unset in production.
PAUSE_VARIABLE = "ROSTRO_TEST_TRAINING_PAUSE"


class TrainingWorker:
    """Claims and performs due training runs for this process; see the module docstring.
    ``kinds`` maps a container's store kind to its Kind (paths and titles of its files)."""

    def __init__(self, database: Database, files: GalleryStore, kinds: Mapping[str, Kind],
                 lease: float = training.LEASE, poll: float = POLL, slots: int = SLOTS,
                 owner: str | None = None) -> None:
        if lease <= 0 or poll <= 0 or slots < 1:
            raise ValueError("the training lease and poll interval must be above zero")
        self.database = database
        self.files = files
        self.kinds = kinds
        self.lease = lease
        self.renew_every = lease / 3
        # Looking less often than renewing would let leases lapse.
        self.poll = min(poll, self.renew_every)
        self.slots = slots
        self.owner = owner or training.process_owner()
        self.pause = settings().training_pause
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._runs: dict[tuple[int, int], threading.Thread] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._renewed_at = 0.0
        self._failing = False

    def start(self) -> None:
        """Start looking for due runs (in a daemon thread)."""
        self._thread = threading.Thread(target=self._loop, name="training-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look for due runs now (this process just queued one)."""
        self._wake.set()

    def stop(self, grace: float = STOP_GRACE) -> None:
        """Stop claiming; wait up to ``grace`` seconds for the runs going on, then give the
        rest back so that other processes take them over at once."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        deadline = time.monotonic() + grace
        for thread in self._running():
            thread.join(max(0.0, deadline - time.monotonic()))
        if self._running():
            try:
                with self.database.transaction() as connection:
                    given = training.release(connection, self.owner)
                log.info("gave back %d training run(s) on stopping", given)
            except Exception:
                log.exception("could not give back training runs; their leases will run out")

    # ---------------------------------------------------------------------------- loop

    def _running(self) -> list[threading.Thread]:
        with self._lock:
            return [t for t in self._runs.values() if t.is_alive()]

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self._renew()
                claimed = self._claim()
                if self._failing:
                    log.warning("training worker reaches the database again")
                self._failing = False
            except Exception:
                if not self._failing:  # once per outage, not once per poll
                    log.exception("training worker cannot reach the database; retrying")
                self._failing = True
                claimed = False
            if not claimed:
                self._wake.wait(self.poll)
                self._wake.clear()

    def _renew(self) -> None:
        """Renew the held leases when a third of the lease has passed since last time."""
        with self._lock:
            held = [key for key, thread in self._runs.items() if thread.is_alive()]
            self._runs = {key: self._runs[key] for key in held}
        if not held or time.monotonic() - self._renewed_at < self.renew_every:
            return
        with self.database.transaction() as connection:
            still = training.renew_leases(connection, self.owner, {pk for pk, _ in held},
                                          self.lease)
        self._renewed_at = time.monotonic()
        for container_pk, run in set(held) - still:
            log.warning("lost the lease of training run %d of container %d (taken over or "
                        "deleted)", run, container_pk)

    def _claim(self) -> bool:
        """Claim one due run if a slot is free and start performing it; whether it did."""
        if len(self._running()) >= self.slots:
            return False
        with self.database.transaction() as connection:
            claim = training.claim_training(connection, self.owner, self.lease)
        if claim is None:
            return False
        if claim.previous_owner is not None:
            log.warning("took over training run %d of container %d from %s (its lease ran "
                        "out; attempt %d)", claim.run, claim.container_pk,
                        claim.previous_owner, claim.attempt)
        thread = threading.Thread(target=self._perform, args=(claim,), daemon=True,
                                  name=f"train-{claim.container_pk}-{claim.run}")
        with self._lock:
            self._runs[(claim.container_pk, claim.run)] = thread
            if len(self._runs) == 1:
                self._renewed_at = time.monotonic()  # the claim itself set the lease
        thread.start()
        return True

    def _perform(self, claim: training.Claim) -> None:
        try:
            if self.pause:
                time.sleep(self.pause)
            train(self.database, self.files, self.kinds, claim)
        except Exception:  # the lease runs out and another process retries the run
            log.exception("training run %d of container %d failed", claim.run,
                          claim.container_pk)
        finally:
            self._wake.set()  # a slot is free, and a run asked for meanwhile may be due

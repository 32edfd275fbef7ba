"""Training state of each container, which is also its training job, and the long-running
operations of v1.2's train.

A container's training row says whether it was ever trained, whether a run is due or going
on, when it last changed, and which trained snapshot identify and find similar use:
``snapshot`` (a token naming the gallery built by the last successful run) and
``trained_seq`` (the last face sequence number in it).

Training is a job that any server process may perform. A train request makes run N due
(status ``running``, no owner). The training worker of every process (rostro.service.trainer)
claims due runs: it writes its name into ``owner`` and a lease expiry into
``lease_expires_at`` with a conditional update (a row lock on PostgreSQL, skipping rows others
hold; SQLite runs one writing transaction at a time), renews the lease while it trains, and
records the outcome only while it still holds the lease. A run whose owner stops renewing (its
process died, or lost the database) is due again when the lease runs out, and the next process
to look takes it over from scratch; after ``MAX_ATTEMPTS`` claims it is failed instead, so a
run that kills its server every time does not go round the cluster forever.

A train request while a run is going on asks for one more run (``again``) once that one ends;
one while the run is due but unclaimed is served by that run (it has not read the faces yet).
Each operation (v1.2's ``operation-Location``) records the run that will settle it.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from rostro.store.groups import lock_container
from rostro.store.tables import Base

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
NOT_STARTED = "notstarted"
#: A run claimed this many times without ending (each owner died) is failed, not retried.
MAX_ATTEMPTS = 3
ABANDONED = ("Training was interrupted {attempts} times (the server running it stopped). "
             "Train again.")
DELETED = "The container was deleted before training finished."
#: Default lease (seconds): a run whose owner has not renewed it for this long is taken over.
LEASE = 30.0


class Training(Base):
    """One row per container that was ever asked to train: its state and its training job
    (``owner`` and ``lease_expires_at`` while a process holds run ``run``; ``attempts``:
    how many times that run was claimed)."""

    __tablename__ = "trainings"
    __table_args__ = (Index("ix_trainings_status", "status"),)

    container_pk: Mapped[int] = mapped_column(
        ForeignKey("face_containers.id", ondelete="CASCADE"), primary_key=True,
        autoincrement=False)
    status: Mapped[str] = mapped_column(String(16))
    run: Mapped[int] = mapped_column(Integer, default=0)
    again: Mapped[bool] = mapped_column(Boolean, default=False)
    owner: Mapped[str | None] = mapped_column(String(128), nullable=True)
    requested_at: Mapped[float] = mapped_column(Float)
    last_action_at: Mapped[float] = mapped_column(Float)
    last_success_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    snapshot: Mapped[str | None] = mapped_column(String(32), nullable=True)
    trained_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    trained_items: Mapped[int] = mapped_column(Integer, default=0)
    lease_expires_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Operation(Base):
    """A long-running operation (v1.2 train): settled when training run ``run`` ends."""

    __tablename__ = "operations"

    operation_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    resource_id: Mapped[int] = mapped_column(
        ForeignKey("resources.id", ondelete="CASCADE"), index=True)
    container_pk: Mapped[int | None] = mapped_column(
        ForeignKey("face_containers.id", ondelete="SET NULL"), nullable=True, index=True)
    run: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[float] = mapped_column(Float)
    last_action_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)


TABLES = (Training, Operation)


@dataclass(frozen=True)
class TrainingState:
    """What the training status operation reports, plus the trained snapshot and the job:
    ``owner`` (the process holding the run, None while it waits for one) and ``attempts``."""

    status: str
    run: int
    requested_at: float
    last_action_at: float
    last_success_at: float | None
    message: str | None
    snapshot: str | None
    trained_seq: int | None
    trained_items: int
    owner: str | None = None
    attempts: int = 0

    @property
    def trained(self) -> bool:
        """Whether a successful run left a snapshot to search."""
        return self.snapshot is not None


@dataclass(frozen=True)
class OperationState:
    operation_id: str
    status: str
    created_at: float
    last_action_at: float
    finished_at: float | None
    message: str | None


@dataclass(frozen=True)
class Claim:
    """Run ``run`` of container ``container_pk``, held by ``owner`` (``attempt``: 1 for the
    first claim, 2 and more for a take-over; ``previous_owner``: whose lease ran out)."""

    container_pk: int
    run: int
    owner: str
    attempt: int
    previous_owner: str | None = None


#: Tells this process apart from an earlier one that had the same pid (a restarted
#: container's server is often pid 1).
_INCARNATION = uuid.uuid4().hex[:12]


def process_owner() -> str:
    """This process, as written into the rows of the runs it holds: host, pid, incarnation."""
    return f"{socket.gethostname()}:{os.getpid()}:{_INCARNATION}"


def _state(row) -> TrainingState:
    return TrainingState(row.status, row.run, row.requested_at, row.last_action_at,
                         row.last_success_at, row.message, row.snapshot, row.trained_seq,
                         row.trained_items, row.owner, row.attempts)


def _settle(connection: Connection, container_pk: int, up_to_run: int, status: str,
            message: str | None, now: float) -> None:
    connection.execute(update(Operation).where(
        Operation.container_pk == container_pk, Operation.run <= up_to_run,
        Operation.finished_at.is_(None)).values(
        status=status, message=message, last_action_at=now, finished_at=now))


def _row(connection: Connection, container_pk: int, lock: bool = False):
    """The container's training row; ``lock``: with a row lock (PostgreSQL) until the
    transaction ends, so a concurrent request, claim or finish waits and then sees the
    outcome."""
    query = select(Training).where(Training.container_pk == container_pk)
    return connection.execute(query.with_for_update() if lock else query).first()


def get_training(connection: Connection, container_pk: int) -> TrainingState | None:
    """The container's training state (None if it was never asked to train), as every
    process sees it, wherever the run goes on."""
    row = _row(connection, container_pk)
    return None if row is None else _state(row)


@dataclass(frozen=True)
class TrainRequest:
    """The outcome of asking to train: ``due`` is True when a run became due (a worker
    should look now; False: a run due or going on serves the request, or one more was
    queued after it); ``operation_id`` names the operation that run ``run`` settles."""

    due: bool
    run: int
    operation_id: str


def request_training(connection: Connection, resource_id: int, container_pk: int,
                     now: float | None = None) -> TrainRequest:
    """Ask for a training run of the container."""
    now = time.time() if now is None else now
    # The container's lock before the training row's, as deleting the container takes
    # them: requests, ends of runs and deletes never deadlock.
    lock_container(connection, container_pk)  # the first request inserts the row
    row = _row(connection, container_pk, lock=True)
    if row is not None and row.status == RUNNING:
        if row.owner is None:  # due, not started: it will read the faces as they are now
            due, run = False, row.run
        else:
            connection.execute(update(Training).where(Training.container_pk == container_pk)
                               .values(again=True))
            due, run = False, row.run + 1
    elif row is None:
        connection.execute(insert(Training).values(
            container_pk=container_pk, status=RUNNING, run=1, again=False, owner=None,
            requested_at=now, last_action_at=now, last_success_at=None, message=None,
            snapshot=None, trained_seq=None, trained_items=0, lease_expires_at=None,
            attempts=0))
        due, run = True, 1
    else:
        run = row.run + 1
        connection.execute(update(Training).where(Training.container_pk == container_pk).values(
            status=RUNNING, run=run, again=False, owner=None, lease_expires_at=None,
            attempts=0, requested_at=now, last_action_at=now, message=None))
        due = True
    operation_id = str(uuid.uuid4())
    connection.execute(insert(Operation).values(
        operation_id=operation_id, resource_id=resource_id, container_pk=container_pk, run=run,
        status=RUNNING, created_at=now, last_action_at=now, finished_at=None, message=None))
    return TrainRequest(due, run, operation_id)


def _due(now: float):
    """The condition of a run any process may claim: unowned, or its lease ran out (rows
    from before leases have an owner and no expiry: their process is gone)."""
    return (Training.status == RUNNING) & or_(
        Training.owner.is_(None), Training.lease_expires_at.is_(None),
        Training.lease_expires_at < now)


def claim_training(connection: Connection, owner: str, lease: float = LEASE,
                   now: float | None = None, max_attempts: int = MAX_ATTEMPTS) -> Claim | None:
    """Take the oldest due run for ``owner``, holding it for ``lease`` seconds; None when
    no run is due. A run already claimed ``max_attempts`` times is failed here instead."""
    now = time.time() if now is None else now
    while True:
        # SKIP LOCKED: a row another process is claiming, requesting or finishing is not
        # waited for (PostgreSQL; SQLite runs one writing transaction at a time anyway).
        row = connection.execute(
            select(Training).where(_due(now))
            .order_by(Training.requested_at, Training.container_pk).limit(1)
            .with_for_update(skip_locked=True)).first()
        if row is None:
            return None
        if row.attempts >= max_attempts:
            message = ABANDONED.format(attempts=row.attempts)
            connection.execute(update(Training).where(Training.container_pk == row.container_pk)
                               .values(status=FAILED, message=message, again=False, owner=None,
                                       lease_expires_at=None, last_action_at=now))
            _settle(connection, row.container_pk, row.run + 1, FAILED, message, now)
            continue
        # Conditional on the row still being the due run just read: with any isolation, two
        # processes never both hold it.
        taken = connection.execute(update(Training).where(
            Training.container_pk == row.container_pk, Training.run == row.run, _due(now))
            .values(owner=owner, lease_expires_at=now + lease, attempts=Training.attempts + 1,
                    last_action_at=now))
        if taken.rowcount == 1:
            return Claim(row.container_pk, row.run, owner, row.attempts + 1, row.owner)


def renew_leases(connection: Connection, owner: str, container_pks: Iterable[int],
                 lease: float = LEASE, now: float | None = None) -> set[tuple[int, int]]:
    """Extend the leases ``owner`` holds on the runs of ``container_pks`` to ``now + lease``;
    return the (container, run) pairs it still holds (a run missing from them was taken over
    or deleted). Only runs still being performed are named: a run whose thread ended without
    recording an outcome must be left to lapse."""
    now = time.time() if now is None else now
    mine = ((Training.owner == owner) & (Training.status == RUNNING)
            & Training.container_pk.in_(list(container_pks)))
    connection.execute(update(Training).where(mine).values(
        lease_expires_at=now + lease, last_action_at=now))
    return {(pk, run) for pk, run in connection.execute(
        select(Training.container_pk, Training.run).where(mine))}


def release(connection: Connection, owner: str, now: float | None = None) -> int:
    """Give back the runs ``owner`` holds (its process is stopping): they are due again at
    once, and the claim does not count as an attempt. Returns how many."""
    now = time.time() if now is None else now
    return connection.execute(update(Training).where(
        Training.owner == owner, Training.status == RUNNING).values(
        owner=None, lease_expires_at=None, attempts=Training.attempts - 1,
        last_action_at=now)).rowcount


def finish_run(connection: Connection, claim: Claim, snapshot: str | None,
               trained_seq: int | None, items: int, message: str | None = None,
               now: float | None = None) -> bool:
    """Record the end of the claimed run: succeeded with ``snapshot`` (None: failed with
    ``message``), and settle the operations up to it. False, recording nothing, when the
    claim no longer holds (the lease ran out and another process took the run over, or the
    container is gone). A run asked for meanwhile becomes due."""
    now = time.time() if now is None else now
    lock_container(connection, claim.container_pk)
    row = _row(connection, claim.container_pk, lock=True)
    if row is None or row.run != claim.run or row.owner != claim.owner or row.status != RUNNING:
        return False
    succeeded = snapshot is not None
    values: dict[str, object] = {"last_action_at": now, "message": None if succeeded else message,
                                 "owner": None, "lease_expires_at": None}
    if succeeded:
        values.update(snapshot=snapshot, trained_seq=trained_seq, trained_items=items,
                      last_success_at=now)
    _settle(connection, claim.container_pk, claim.run, SUCCEEDED if succeeded else FAILED,
            None if succeeded else message, now)
    if row.again:
        values.update(status=RUNNING, run=claim.run + 1, again=False, requested_at=now,
                      attempts=0)
    else:
        values.update(status=SUCCEEDED if succeeded else FAILED)
    connection.execute(update(Training).where(Training.container_pk == claim.container_pk)
                       .values(**values))
    return True


def get_operation(connection: Connection, resource_id: int, operation_id: str,
                  now: float | None = None) -> OperationState | None:
    """An operation of the resource (None if unknown). One whose container was deleted
    before its run ended is failed here."""
    row = connection.execute(select(Operation).where(
        Operation.operation_id == operation_id, Operation.resource_id == resource_id)).first()
    if row is None:
        return None
    if row.finished_at is None and row.container_pk is None:
        now = time.time() if now is None else now
        connection.execute(update(Operation).where(Operation.operation_id == operation_id).values(
            status=FAILED, message=DELETED, last_action_at=now, finished_at=now))
        row = connection.execute(select(Operation).where(
            Operation.operation_id == operation_id)).one()
    return OperationState(row.operation_id, row.status, row.created_at, row.last_action_at,
                          row.finished_at, row.message)

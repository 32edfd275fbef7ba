"""Training state of each container, and the long-running operations of v1.2's train.

A container's training row says whether it was ever trained, whether a run is going on (and
which process runs it), when it last changed, and which trained snapshot identify and find
similar use: ``snapshot`` (a token naming the gallery built by the last successful run) and
``trained_seq`` (the last face sequence number in it).

Runs are numbered. A train request while a run is going on asks for one more run
(``again``); each operation (v1.2's ``operation-Location``) records the run that will settle
it, and is settled when that run ends. A run whose process died is reported as failed the
next time anyone looks, so a crash never leaves "running" forever: at once when the process
was on this host, or after ``HEARTBEAT_TIMEOUT`` without the run's heartbeat otherwise.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Connection,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column

from rostro.store.tables import Base

RUNNING = "running"
SUCCEEDED = "succeeded"
FAILED = "failed"
NOT_STARTED = "notstarted"
INTERRUPTED = "Training was interrupted (the server stopped). Train again."
#: A running run's process touches ``last_action_at`` this often (seconds) ...
HEARTBEAT = 30.0
#: ... and a run not touched for this long is taken for dead, whoever owned it.
HEARTBEAT_TIMEOUT = 300.0


class Training(Base):
    """One row per container that was ever asked to train."""

    __tablename__ = "trainings"

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
    """What the training status operation reports, plus the trained snapshot."""

    status: str
    run: int
    requested_at: float
    last_action_at: float
    last_success_at: float | None
    message: str | None
    snapshot: str | None
    trained_seq: int | None
    trained_items: int

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


#: Tells this process apart from an earlier one that had the same pid (a restarted
#: container's server is often pid 1).
_INCARNATION = uuid.uuid4().hex[:12]


def process_owner() -> str:
    """This process, as written into the rows of the runs it performs."""
    return f"{socket.gethostname()}:{os.getpid()}:{_INCARNATION}"


def owner_alive(owner: str | None) -> bool:
    """False when ``owner`` is a process of this host that no longer exists (or an earlier
    process with this process's pid); True for processes of other hosts."""
    if not owner:
        return False
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return False
    host, pid, incarnation = parts[0], int(parts[1]), parts[2]
    if host != socket.gethostname():
        return True  # another machine's process: trust it
    if pid == os.getpid():
        return incarnation == _INCARNATION
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _state(row) -> TrainingState:
    return TrainingState(row.status, row.run, row.requested_at, row.last_action_at,
                         row.last_success_at, row.message, row.snapshot, row.trained_seq,
                         row.trained_items)


def _settle(connection: Connection, container_pk: int, up_to_run: int, status: str,
            message: str | None, now: float) -> None:
    connection.execute(update(Operation).where(
        Operation.container_pk == container_pk, Operation.run <= up_to_run,
        Operation.finished_at.is_(None)).values(
        status=status, message=message, last_action_at=now, finished_at=now))


def get_training(connection: Connection, container_pk: int,
                 now: float | None = None) -> TrainingState | None:
    """The container's training state (None if it was never asked to train). A run whose
    process died is marked failed here."""
    row = connection.execute(select(Training).where(Training.container_pk == container_pk)).first()
    if row is None:
        return None
    now = time.time() if now is None else now
    if row.status == RUNNING and (not owner_alive(row.owner)
                                  or now - row.last_action_at > HEARTBEAT_TIMEOUT):
        connection.execute(update(Training).where(Training.container_pk == container_pk).values(
            status=FAILED, message=INTERRUPTED, last_action_at=now, again=False, owner=None))
        _settle(connection, container_pk, row.run + 1, FAILED, INTERRUPTED, now)
        row = connection.execute(select(Training).where(
            Training.container_pk == container_pk)).first()
    return _state(row)


@dataclass(frozen=True)
class TrainRequest:
    """The outcome of asking to train: ``start`` is True when the caller must perform run
    ``run`` now (False: a run is going on and one more was queued); ``operation_id`` names
    the operation that the requested run settles."""

    start: bool
    run: int
    operation_id: str


def request_training(connection: Connection, resource_id: int, container_pk: int,
                     owner: str | None = None, now: float | None = None) -> TrainRequest:
    """Ask for a training run of the container."""
    now = time.time() if now is None else now
    owner = owner or process_owner()
    state = get_training(connection, container_pk, now)
    if state is not None and state.status == RUNNING:
        connection.execute(update(Training).where(Training.container_pk == container_pk)
                           .values(again=True))
        start, run = False, state.run + 1
    elif state is None:
        connection.execute(insert(Training).values(
            container_pk=container_pk, status=RUNNING, run=1, again=False, owner=owner,
            requested_at=now, last_action_at=now, last_success_at=None, message=None,
            snapshot=None, trained_seq=None, trained_items=0))
        start, run = True, 1
    else:
        run = state.run + 1
        connection.execute(update(Training).where(Training.container_pk == container_pk).values(
            status=RUNNING, run=run, again=False, owner=owner, requested_at=now,
            last_action_at=now, message=None))
        start = True
    operation_id = str(uuid.uuid4())
    connection.execute(insert(Operation).values(
        operation_id=operation_id, resource_id=resource_id, container_pk=container_pk, run=run,
        status=RUNNING, created_at=now, last_action_at=now, finished_at=None, message=None))
    return TrainRequest(start, run, operation_id)


def heartbeat(connection: Connection, container_pk: int, run: int,
              now: float | None = None) -> None:
    """Mark run ``run`` as still going (called periodically by the process running it)."""
    connection.execute(update(Training).where(
        Training.container_pk == container_pk, Training.run == run,
        Training.status == RUNNING).values(last_action_at=time.time() if now is None else now))


def finish_run(connection: Connection, container_pk: int, run: int, snapshot: str | None,
               trained_seq: int | None, items: int, message: str | None = None,
               owner: str | None = None, now: float | None = None) -> int | None:
    """Record the end of run ``run``: succeeded with ``snapshot`` (None: failed with
    ``message``). Settles the operations up to that run. Returns the number of the next run
    this process must perform when another was asked for meanwhile, else None."""
    now = time.time() if now is None else now
    row = connection.execute(select(Training).where(Training.container_pk == container_pk)).first()
    if row is None or row.run != run:
        return None  # the container is gone, or another process took over
    succeeded = snapshot is not None
    values: dict[str, object] = {"last_action_at": now, "message": None if succeeded else message}
    if succeeded:
        values.update(snapshot=snapshot, trained_seq=trained_seq, trained_items=items,
                      last_success_at=now)
    _settle(connection, container_pk, run, SUCCEEDED if succeeded else FAILED,
            None if succeeded else message, now)
    if row.again:
        values.update(status=RUNNING, run=run + 1, again=False, requested_at=now,
                      owner=owner or process_owner())
        connection.execute(update(Training).where(Training.container_pk == container_pk)
                           .values(**values))
        return run + 1
    values.update(status=SUCCEEDED if succeeded else FAILED, owner=None)
    connection.execute(update(Training).where(Training.container_pk == container_pk)
                       .values(**values))
    return None


def get_operation(connection: Connection, resource_id: int, operation_id: str,
                  now: float | None = None) -> OperationState | None:
    """An operation of the resource (None if unknown). Looking at it also notices a run
    whose process died."""
    row = connection.execute(select(Operation).where(
        Operation.operation_id == operation_id, Operation.resource_id == resource_id)).first()
    if row is None:
        return None
    if row.finished_at is None and row.container_pk is not None:
        get_training(connection, row.container_pk, now)  # settles orphaned runs
        row = connection.execute(select(Operation).where(
            Operation.operation_id == operation_id)).one()
    elif row.finished_at is None:  # its container was deleted before the run ended
        now = time.time() if now is None else now
        message = "The container was deleted before training finished."
        connection.execute(update(Operation).where(Operation.operation_id == operation_id).values(
            status=FAILED, message=message, last_action_at=now, finished_at=now))
        row = connection.execute(select(Operation).where(
            Operation.operation_id == operation_id)).one()
    return OperationState(row.operation_id, row.status, row.created_at, row.last_action_at,
                          row.finished_at, row.message)

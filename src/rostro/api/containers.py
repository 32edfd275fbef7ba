"""What person groups, large person groups, face lists and large face lists share: their
Azure names and error codes, ids and paging parameters, name/userData validation, JSON shapes,
and running one store transaction from a request.

Messages follow the live service where it is known (docs/api.md lists the few worded by
Rostro).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, TypeVar, overload

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from rostro.api.detect import RECOGNITION_MODELS
from rostro.api.errors import ApiError, bad_argument, invalid_body
from rostro.api.images import read_json_object
from rostro.api.params import Query, QueryParam
from rostro.service.state import service_state
from rostro.store import groups
from rostro.store.errors import AlreadyExists
from rostro.store.groups import ContainerRow, FaceRow, LimitReached, PersonRow
from rostro.store.quotas import ContainerQuota, quota
from rostro.store.resources import ResourceRef

T = TypeVar("T")

ID_PATTERN = re.compile(r"^[a-z0-9-_]{1,64}$")
MAX_NAME = 128
MAX_USER_DATA = 16 * 1024  # containers and persons
MAX_FACE_USER_DATA = 1024  # persisted faces
MAX_START = 64


@dataclass(frozen=True)
class Kind:
    """One kind of container as the API names it."""

    store_kind: str  # rostro.store.groups kind
    path: str  # path segment, also the index-file namespace
    id_field: str  # JSON and body field of its id
    title: str  # "Person group", in messages
    code: str  # "PersonGroup", prefix of error codes

    @property
    def has_persons(self) -> bool:
        return self.store_kind in groups.PERSON_KINDS

    @property
    def needs_training(self) -> bool:
        """Face lists are searched as they are; every other kind answers from its training."""
        return self.store_kind != groups.FACE_LIST

    # Errors ------------------------------------------------------------------------

    def not_found(self) -> ApiError:
        return ApiError(404, f"{self.code}NotFound", f"{self.title} is not found.")

    def invalid_id(self, status: int = 400) -> ApiError:
        message = (f"{self.title} ID is invalid. Valid format should be a string composed by "
                   "numbers, English letters in lower case, '-', '_', and no longer than 64 "
                   "characters.")
        if status == 404:
            return ApiError(404, f"{self.code}NotFound", message)
        return bad_argument(message)

    def exists(self) -> ApiError:
        return ApiError(409, f"{self.code}Exists", f"{self.title} already exists.")

    def not_trained(self, container_id: str, status: int = 400) -> ApiError:
        return ApiError(status, f"{self.code}NotTrained",
                        f"{self.title} '{container_id}' not trained.")

    def under_training(self, container_id: str) -> ApiError:
        return ApiError(409, f"{self.code}TrainingNotFinished",
                        f"{self.title} '{container_id}' is under training.")

    def quota_exceeded(self, what: str) -> ApiError:
        """403 QuotaExceeded for ``LimitReached.what``."""
        if what == "containers":
            message = f"{self.title} number reached subscription level limit."
        elif what == "persons":
            message = f"Person number reached {self.title.lower()} level limit."
        elif what == "person_faces":
            message = "Persisted face number reached limit, maximum is 248 per person."
        else:
            message = f"Persisted face number reached {self.title.lower()} level limit."
        return ApiError(403, "QuotaExceeded", message)


PERSON_GROUP = Kind(groups.PERSON_GROUP, "persongroups", "personGroupId", "Person group",
                    "PersonGroup")
LARGE_PERSON_GROUP = Kind(groups.LARGE_PERSON_GROUP, "largepersongroups", "largePersonGroupId",
                          "Large person group", "LargePersonGroup")
FACE_LIST = Kind(groups.FACE_LIST, "facelists", "faceListId", "Face list", "FaceList")
LARGE_FACE_LIST = Kind(groups.LARGE_FACE_LIST, "largefacelists", "largeFaceListId",
                       "Large face list", "LargeFaceList")
KINDS = (PERSON_GROUP, LARGE_PERSON_GROUP, FACE_LIST, LARGE_FACE_LIST)


def person_not_found() -> ApiError:
    return ApiError(404, "PersonNotFound", "Person is not found.")


def persisted_face_not_found() -> ApiError:
    return ApiError(404, "PersistedFaceNotFound", "Persisted face is not found.")


# ------------------------------------------------------------------------ parameters

TOP = QueryParam("top", "integer", 1000, "Number of entries to return (1 to 1000).",
                 minimum=1, maximum=1000, invalid_message="'top' is invalid.",
                 range_message="'top' is invalid.")
START = QueryParam("start", "string", None,
                   "Return entries whose id is greater than this one (paging).")
RETURN_RECOGNITION_MODEL = QueryParam("returnRecognitionModel", "boolean", False,
                                      "Return 'recognitionModel'.")


def paging(request: Request) -> tuple[str | None, int]:
    """``start`` and ``top`` of a list operation (BadArgument when invalid)."""
    query = Query(request.query_params)
    start = query.raw(START.name)
    if start is not None and len(start) > MAX_START:
        raise bad_argument("'start' is too long.")
    return start, query.integer(TOP)


def returns_model(request: Request) -> bool:
    return Query(request.query_params).flag(RETURN_RECOGNITION_MODEL)


def check_container_id(kind: Kind, container_id: str, status: int = 404) -> str:
    """The id if it is valid; otherwise BadArgument (creation) or NotFound (others)."""
    if not ID_PATTERN.match(container_id):
        raise kind.invalid_id(status)
    return container_id


def parse_uuid(value: object, error: Callable[[], ApiError]) -> str:
    """A UUID in canonical lowercase form, or ``error()``."""
    if not isinstance(value, str):
        raise error()
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise error() from None


# ------------------------------------------------------------------------------ bodies

async def json_body(request: Request, required: bool = True) -> dict[str, object]:
    """The JSON object of the body, ``null`` fields dropped (``{}`` for an empty body when
    not ``required``)."""
    body = await read_json_object(request)
    if body is None:
        if required:
            raise invalid_body()
        return {}
    return body


@overload
def check_name(value: object, required: Literal[True]) -> str: ...
@overload
def check_name(value: object, required: bool) -> str | None: ...
def check_name(value: object, required: bool) -> str | None:
    if value is None:
        if required:
            raise bad_argument("'name' is empty.")
        return None
    if not isinstance(value, str):
        raise invalid_body()
    if not value.strip():
        raise bad_argument("'name' is empty.")
    if len(value) > MAX_NAME:
        raise bad_argument("'name' is too long.")
    return value


def check_user_data(value: object, limit: int = MAX_USER_DATA) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise invalid_body()
    if len(value.encode("utf-8")) > limit:
        raise bad_argument("'userData' is too long.")
    return value


def check_recognition_model(value: object) -> str:
    if value is None:
        return RECOGNITION_MODELS[0]
    if isinstance(value, str):
        for model in RECOGNITION_MODELS:
            if value.lower() == model:
                return model
    raise bad_argument("'recognitionModel' is invalid.")


# ------------------------------------------------------------------------------- JSON

def container_json(kind: Kind, row: ContainerRow, with_model: bool) -> dict[str, object]:
    body: dict[str, object] = {kind.id_field: row.container_id, "name": row.name,
                               "userData": row.user_data}
    if with_model:
        body["recognitionModel"] = row.recognition_model
    return body


def person_json(row: PersonRow) -> dict[str, object]:
    return {"personId": row.person_id, "name": row.name, "userData": row.user_data,
            "persistedFaceIds": list(row.persisted_face_ids)}


def face_json(row: FaceRow) -> dict[str, object]:
    return {"persistedFaceId": row.persisted_face_id, "userData": row.user_data}


# ------------------------------------------------------------------------ transactions

async def in_transaction(request: Request, work: Callable[..., T], *args) -> T:
    """Run ``work(connection, *args)`` in one database transaction, in a worker thread.
    An ApiError raised inside rolls the transaction back and reaches the client."""
    database = service_state(request).database

    def run() -> T:
        with database.transaction() as connection:
            return work(connection, *args)

    return await run_in_threadpool(run)


def require_container(connection, resource: ResourceRef, kind: Kind,
                      container_id: str, lock: bool = False) -> ContainerRow:
    """The container, or the kind's 404. Writes into the container pass ``lock`` (its row
    lock, held until commit, before anything they check is read)."""
    check_container_id(kind, container_id)
    row = groups.get_container(connection, resource.id, kind.store_kind, container_id, lock)
    if row is None:
        raise kind.not_found()
    return row


def require_person(connection, container: ContainerRow, person_id: object) -> PersonRow:
    """The person ``person_id`` (any value from a request) of the container, or 404."""
    row = groups.get_person(connection, container.pk, parse_uuid(person_id, person_not_found))
    if row is None:
        raise person_not_found()
    return row


def container_quota(resource: ResourceRef, kind: Kind) -> ContainerQuota:
    return quota(resource.tier, kind.store_kind)


@contextmanager
def store_refusals(kind: Kind) -> Iterator[None]:
    """Azure's answers to the store's refusals in an operation on a ``kind`` container, mapped
    here once: AlreadyExists is 409 <Kind>Exists, LimitReached 403 QuotaExceeded."""
    try:
        yield
    except AlreadyExists:
        raise kind.exists() from None
    except LimitReached as exc:
        raise kind.quota_exceeded(exc.what) from None

"""``GET /operations/{operationId}`` (the long-running operations that v1.2's train returns)
and the Snapshot operations, which Azure retired in June 2023.

v1.2 answers ``{operationId, status, createdTime, lastActionTime, finishedTime, message}``
with ``notStarted|running|succeeded|failed``; v1.0 answers the older OperationStatus shape.
Neither carries ``resourceLocation``: a poller would try to GET it, and training has no
resource to point at. Snapshot calls answer as Azure's retired features do:
``403 InvalidRequest "Invalid request has been sent."``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse

from rostro.api import containers
from rostro.api.auth import authorize
from rostro.api.container_routes import timestamp
from rostro.api.errors import ApiError
from rostro.api.versions import V10, is_v12, mount
from rostro.store import training
from rostro.store.resources import ResourceRef

V12_STATUS = {"notstarted": "notStarted"}


def operation_not_found() -> ApiError:
    return ApiError(404, "OperationNotFound", "Operation is not found.")


def retired() -> ApiError:
    return ApiError(403, "InvalidRequest", "Invalid request has been sent.")


def operation_json(state: training.OperationState, v12: bool) -> dict[str, object]:
    if v12:
        return {"operationId": state.operation_id,
                "status": V12_STATUS.get(state.status, state.status),
                "createdTime": timestamp(state.created_at),
                "lastActionTime": timestamp(state.last_action_at),
                "finishedTime": timestamp(state.finished_at),
                "message": state.message}
    return {"status": state.status, "createdTime": timestamp(state.created_at),
            "lastActionTime": timestamp(state.last_action_at), "message": state.message}


operations = APIRouter(tags=["Operations"])


@operations.get("/operations/{operation_id}", name="Get Operation Status",
                summary="Status of a long-running operation (training)")
async def get_operation(request: Request, operation_id: str,
                        resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    operation_id = containers.parse_uuid(operation_id, operation_not_found)
    state = await containers.in_transaction(
        request, lambda conn: training.get_operation(conn, resource.id, operation_id))
    if state is None:
        raise operation_not_found()
    return JSONResponse(operation_json(state, is_v12(request)))


snapshots = APIRouter(tags=["Snapshot (retired)"])


async def _retired(resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    raise retired()


for _path, _methods, _name in (
    ("/snapshots", ["POST"], "Snapshot - Take"),
    ("/snapshots", ["GET"], "Snapshot - List"),
    ("/snapshots/{snapshot_id}", ["GET"], "Snapshot - Get"),
    ("/snapshots/{snapshot_id}", ["PATCH"], "Snapshot - Update"),
    ("/snapshots/{snapshot_id}", ["DELETE"], "Snapshot - Delete"),
    ("/snapshots/{snapshot_id}/apply", ["POST"], "Snapshot - Apply"),
):
    snapshots.add_api_route(_path, _retired, methods=_methods, name=_name,
                            summary="Retired by Azure in June 2023: answers 403 InvalidRequest")

router = APIRouter()
router.include_router(mount(operations))
router.include_router(mount(snapshots, versions=(V10,)))

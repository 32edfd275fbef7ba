"""FaceList and LargeFaceList: containers of persisted faces for find similar.

A face list (at most 1,000 faces) is searched as it is, without training; a large face list
answers from its last training, like a large person group.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from rostro.api import containers
from rostro.api.auth import authorize
from rostro.api.container_routes import container_routes, ok
from rostro.api.containers import Kind
from rostro.api.enroll import face_from_request, parse_add_face_params
from rostro.api.images import image_media_type
from rostro.api.versions import mount
from rostro.store import groups
from rostro.store.resources import ResourceRef


def face_routes(kind: Kind) -> APIRouter:
    """Persisted faces of a (large) face list."""
    router = APIRouter(tags=[kind.code])
    faces = f"/{kind.path}/{{container_id}}/persistedfaces"
    face = f"{faces}/{{persisted_face_id}}"
    large = kind.store_kind == groups.LARGE_FACE_LIST

    @router.post(faces, name=f"{kind.code} - Add Face",
                 summary=f"Add a face (JSON {{url}} or image bytes) to a {kind.title.lower()}")
    async def add_face(request: Request, container_id: str,
                       resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        params = parse_add_face_params(request)
        image_media_type(request)
        await containers.in_transaction(
            request, lambda conn: containers.require_container(conn, resource, kind, container_id))
        new_face = await face_from_request(request, params)

        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id, lock=True)
            with containers.store_refusals(kind):
                return groups.add_face(connection, row.pk, new_face,
                                       container_limit=containers.container_quota(resource, kind).faces)

        return JSONResponse({"persistedFaceId": await containers.in_transaction(request, work)})

    async def _face(request, resource, container_id, persisted_face_id, action):
        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            face_id = containers.parse_uuid(persisted_face_id, containers.persisted_face_not_found)
            found = groups.get_face(connection, row.pk, face_id)
            if found is None:
                raise containers.persisted_face_not_found()
            return action(connection, row, found)

        return await containers.in_transaction(request, work)

    @router.delete(face, name=f"{kind.code} - Delete Face", summary="Delete a persisted face")
    async def delete_face(request: Request, container_id: str, persisted_face_id: str,
                          resource: ResourceRef = Depends(authorize)) -> Response:
        await _face(request, resource, container_id, persisted_face_id,
                    lambda conn, row, found: groups.delete_face(conn, row.pk, found.pk,
                                                                counts_as_removed=large))
        return ok()

    if not large:
        return router

    @router.get(faces, name=f"{kind.code} - List Faces",
                summary="Persisted faces in persistedFaceId order (start, top)")
    async def list_faces(request: Request, container_id: str,
                         resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        start, top = containers.paging(request)

        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            return [containers.face_json(f) for f in groups.list_faces(connection, row.pk, start, top)]

        return JSONResponse(await containers.in_transaction(request, work))

    @router.get(face, name=f"{kind.code} - Get Face", summary="A persisted face's userData")
    async def get_face(request: Request, container_id: str, persisted_face_id: str,
                       resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        return JSONResponse(await _face(request, resource, container_id, persisted_face_id,
                                        lambda _conn, _row, found: containers.face_json(found)))

    @router.patch(face, name=f"{kind.code} - Update Face", summary="Change a face's userData")
    async def update_face(request: Request, container_id: str, persisted_face_id: str,
                          resource: ResourceRef = Depends(authorize)) -> Response:
        body = await containers.json_body(request, required=False)
        user_data = containers.check_user_data(body.get("userData"), containers.MAX_FACE_USER_DATA)
        await _face(request, resource, container_id, persisted_face_id,
                    lambda conn, _row, found: groups.update_face(conn, found.pk, user_data))
        return ok()

    return router


family = APIRouter()
for _kind in (containers.FACE_LIST, containers.LARGE_FACE_LIST):
    family.include_router(container_routes(_kind))
    family.include_router(face_routes(_kind))

router = mount(family)

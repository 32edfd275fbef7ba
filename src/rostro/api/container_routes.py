"""PersonGroup, LargePersonGroup and their persons and persisted faces; training of every
container kind.

``container_routes(kind)`` serves what all four container kinds share (create, get, update,
delete, list; train and training status for the kinds that train); the face-list module
reuses it. Train answers 202 at once and queues a training run in the database, which the
training worker of any server process performs (``rostro.service.trainer``); v1.0 answers
with an empty body, the newer versions add an absolute ``operation-Location`` (see ``rostro.api.operations``).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from rostro.api import containers
from rostro.api.auth import authorize
from rostro.api.containers import Kind
from rostro.api.enroll import face_from_request, parse_add_face_params
from rostro.api.images import image_media_type
from rostro.api.versions import api_version, is_v12, mount
from rostro.service.state import service_state
from rostro.store import groups, training
from rostro.store.quotas import FACES_PER_PERSON
from rostro.store.resources import ResourceRef


def ok() -> Response:
    """200 with an empty body (create, update, delete)."""
    return Response(status_code=200)


def timestamp(seconds: float | None) -> str | None:
    """UTC time as Azure writes it: ``2024-03-05T11:07:58.371Z``."""
    if seconds is None:
        return None
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def training_status_json(state: training.TrainingState, container: groups.ContainerRow,
                         v12: bool) -> dict[str, object]:
    status = state.status
    if status == training.NOT_STARTED and v12:
        status = "notStarted"
    return {
        "status": status,
        "createdDateTime": timestamp(container.created_at),
        "lastActionDateTime": timestamp(state.last_action_at),
        "lastSuccessfulTrainingDateTime": timestamp(state.last_success_at),
        "message": state.message,
    }


def operation_location(request: Request, operation_id: str) -> str:
    """The absolute URL of an operation, under the request's API version."""
    base = str(request.base_url).rstrip("/")
    return f"{base}/face/{api_version(request)}/operations/{operation_id}"


def container_routes(kind: Kind) -> APIRouter:
    """Create/get/update/delete/list of ``kind`` containers, and train/training."""
    router = APIRouter(tags=[kind.code])
    item = f"/{kind.path}/{{container_id}}"

    @router.put(item, name=f"{kind.code} - Create",
                summary=f"Create a {kind.title.lower()} with a name, userData and "
                        "recognitionModel")
    async def create(request: Request, container_id: str,
                     resource: ResourceRef = Depends(authorize)) -> Response:
        containers.check_container_id(kind, container_id, status=400)
        body = await containers.json_body(request)
        name = containers.check_name(body.get("name"), required=True)
        user_data = containers.check_user_data(body.get("userData"))
        model = containers.check_recognition_model(body.get("recognitionModel"))

        def work(connection):
            with containers.store_refusals(kind):
                groups.create_container(connection, resource.id, kind.store_kind, container_id,
                                        name, user_data, model,
                                        containers.container_quota(resource, kind).containers)

        await containers.in_transaction(request, work)
        return ok()

    @router.get(item, name=f"{kind.code} - Get",
                summary=f"Name, userData (and recognitionModel) of a {kind.title.lower()}")
    async def get(request: Request, container_id: str,
                  resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        with_model = containers.returns_model(request)

        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            body = containers.container_json(kind, row, with_model)
            if kind.store_kind == groups.FACE_LIST:
                body["persistedFaces"] = [containers.face_json(face)
                                          for face in groups.list_faces(connection, row.pk)]
            return body

        return JSONResponse(await containers.in_transaction(request, work))

    @router.patch(item, name=f"{kind.code} - Update",
                  summary=f"Change the name and/or userData of a {kind.title.lower()}")
    async def update(request: Request, container_id: str,
                     resource: ResourceRef = Depends(authorize)) -> Response:
        body = await containers.json_body(request, required=False)
        name = containers.check_name(body.get("name"), required=False)
        user_data = containers.check_user_data(body.get("userData"))

        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            groups.update_container(connection, row.pk, name, user_data)

        await containers.in_transaction(request, work)
        return ok()

    @router.delete(item, name=f"{kind.code} - Delete",
                   summary=f"Delete a {kind.title.lower()} with everything in it")
    async def delete(request: Request, container_id: str,
                     resource: ResourceRef = Depends(authorize)) -> Response:
        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            groups.delete_container(connection, row.pk)

        await containers.in_transaction(request, work)
        service_state(request).gallery_files().discard(resource.name, kind.path, container_id)
        return ok()

    @router.get(f"/{kind.path}", name=f"{kind.code} - List",
                summary=f"{kind.title}s in id order (start, top)")
    async def list_all(request: Request,
                       resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        start, top = containers.paging(request)
        with_model = containers.returns_model(request)

        def work(connection):
            rows = groups.list_containers(connection, resource.id, kind.store_kind, start, top)
            return [containers.container_json(kind, row, with_model) for row in rows]

        return JSONResponse(await containers.in_transaction(request, work))

    if kind.needs_training:
        add_training_routes(router, kind, item)
    return router


def add_training_routes(router: APIRouter, kind: Kind, item: str) -> None:
    @router.post(f"{item}/train", name=f"{kind.code} - Train", status_code=202,
                 summary=f"Queue training of a {kind.title.lower()} (202; poll /training)")
    async def train(request: Request, container_id: str,
                    resource: ResourceRef = Depends(authorize)) -> Response:
        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            return training.request_training(connection, resource.id, row.pk)

        asked = await containers.in_transaction(request, work)
        trainer = service_state(request).trainer
        if asked.due and trainer is not None:
            trainer.wake()  # this process looks first; any other may take the run
        headers = ({"operation-Location": operation_location(request, asked.operation_id)}
                   if is_v12(request) else None)
        return Response(status_code=202, headers=headers)

    @router.get(f"{item}/training", name=f"{kind.code} - Get Training Status",
                summary=f"Training status of a {kind.title.lower()}")
    async def training_status(request: Request, container_id: str,
                              resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            return row, training.get_training(connection, row.pk)

        row, state = await containers.in_transaction(request, work)
        if state is None:
            raise kind.not_trained(container_id, status=404)
        return JSONResponse(training_status_json(state, row, is_v12(request)))


def person_routes(kind: Kind) -> APIRouter:
    """Persons of a (large) person group and their persisted faces."""
    router = APIRouter(tags=[f"{kind.code}Person"])
    persons = f"/{kind.path}/{{container_id}}/persons"
    person = f"{persons}/{{person_id}}"
    faces = f"{person}/persistedfaces"
    face = f"{faces}/{{persisted_face_id}}"
    title = f"{kind.code}Person"

    @router.post(persons, name=f"{title} - Create",
                 summary=f"Add a person to a {kind.title.lower()}; returns its personId")
    async def create_person(request: Request, container_id: str,
                            resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        body = await containers.json_body(request)
        name = containers.check_name(body.get("name"), required=True)
        user_data = containers.check_user_data(body.get("userData"))

        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            with containers.store_refusals(kind):
                return groups.create_person(connection, row.pk, name, user_data,
                                            containers.container_quota(resource, kind).persons)

        return JSONResponse({"personId": await containers.in_transaction(request, work)})

    @router.get(persons, name=f"{title} - List", summary="Persons in personId order (start, top)")
    async def list_persons(request: Request, container_id: str,
                           resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        start, top = containers.paging(request)

        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            return [containers.person_json(p) for p in groups.list_persons(connection, row.pk, start, top)]

        return JSONResponse(await containers.in_transaction(request, work))

    @router.get(person, name=f"{title} - Get",
                summary="A person's name, userData and persistedFaceIds")
    async def get_person(request: Request, container_id: str, person_id: str,
                         resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            found = containers.require_person(connection, row, person_id)
            return {"personId": found.person_id, "persistedFaceIds": list(found.persisted_face_ids),
                    "name": found.name, "userData": found.user_data}

        return JSONResponse(await containers.in_transaction(request, work))

    @router.patch(person, name=f"{title} - Update", summary="Change a person's name/userData")
    async def update_person(request: Request, container_id: str, person_id: str,
                            resource: ResourceRef = Depends(authorize)) -> Response:
        body = await containers.json_body(request, required=False)
        name = containers.check_name(body.get("name"), required=False)
        user_data = containers.check_user_data(body.get("userData"))

        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            found = containers.require_person(connection, row, person_id)
            groups.update_person(connection, found.pk, name, user_data)

        await containers.in_transaction(request, work)
        return ok()

    @router.delete(person, name=f"{title} - Delete", summary="Delete a person and its faces")
    async def delete_person(request: Request, container_id: str, person_id: str,
                            resource: ResourceRef = Depends(authorize)) -> Response:
        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            found = containers.require_person(connection, row, person_id)
            groups.delete_person(connection, row.pk, found.pk)

        await containers.in_transaction(request, work)
        return ok()

    @router.post(faces, name=f"{title} - Add Face",
                 summary="Add a face (JSON {url} or image bytes) to a person; at most 248")
    async def add_face(request: Request, container_id: str, person_id: str,
                       resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        params = parse_add_face_params(request)
        image_media_type(request)

        def check(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            containers.require_person(connection, row, person_id)

        await containers.in_transaction(request, check)
        new_face = await face_from_request(request, params)

        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            found = containers.require_person(connection, row, person_id)
            with containers.store_refusals(kind):
                return groups.add_face(connection, row.pk, new_face, person_pk=found.pk,
                                       person_limit=FACES_PER_PERSON)

        return JSONResponse({"persistedFaceId": await containers.in_transaction(request, work)})

    async def _face(request, resource, container_id, person_id, persisted_face_id, action):
        def work(connection):
            row = containers.require_container(connection, resource, kind, container_id)
            found = containers.require_person(connection, row, person_id)
            face_id = containers.parse_uuid(persisted_face_id, containers.persisted_face_not_found)
            face_row = groups.get_face(connection, row.pk, face_id, person_pk=found.pk)
            if face_row is None:
                raise containers.persisted_face_not_found()
            return action(connection, row, face_row)

        return await containers.in_transaction(request, work)

    @router.get(face, name=f"{title} - Get Face", summary="A persisted face's userData")
    async def get_face(request: Request, container_id: str, person_id: str,
                       persisted_face_id: str,
                       resource: ResourceRef = Depends(authorize)) -> JSONResponse:
        return JSONResponse(await _face(request, resource, container_id, person_id,
                                        persisted_face_id, lambda _c, _r, f: containers.face_json(f)))

    @router.patch(face, name=f"{title} - Update Face", summary="Change a face's userData")
    async def update_face(request: Request, container_id: str, person_id: str,
                          persisted_face_id: str,
                          resource: ResourceRef = Depends(authorize)) -> Response:
        body = await containers.json_body(request, required=False)
        user_data = containers.check_user_data(body.get("userData"), containers.MAX_FACE_USER_DATA)
        await _face(request, resource, container_id, person_id, persisted_face_id,
                    lambda conn, _r, f: groups.update_face(conn, f.pk, user_data))
        return ok()

    @router.delete(face, name=f"{title} - Delete Face", summary="Delete a persisted face")
    async def delete_face(request: Request, container_id: str, person_id: str,
                          persisted_face_id: str,
                          resource: ResourceRef = Depends(authorize)) -> Response:
        await _face(request, resource, container_id, person_id, persisted_face_id,
                    lambda conn, r, f: groups.delete_face(conn, r.pk, f.pk))
        return ok()

    return router


family = APIRouter()
for _kind in (containers.PERSON_GROUP, containers.LARGE_PERSON_GROUP):
    family.include_router(container_routes(_kind))
    family.include_router(person_routes(_kind))

router = mount(family)

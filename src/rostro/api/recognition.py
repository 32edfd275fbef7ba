"""Face - Verify, Identify, Find Similar and Group: comparisons of faceIds (from Detect, kept
in the faceId cache) with each other, with persons, and with face lists.

Every score is ``rostro.service.matching.confidence`` of a cosine similarity, so 0.5 is the
decision threshold everywhere. Identify and find similar against a large face list answer
from the container's last training; a face list is searched as it is.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse

from rostro.api import containers
from rostro.api.auth import authorize
from rostro.api.containers import Kind
from rostro.api.errors import ApiError, bad_argument, invalid_body
from rostro.api.versions import mount
from rostro.search import SearchableGallery
from rostro.service.galleries import open_trained
from rostro.service.matching import DECISION_CONFIDENCE, cluster, confidence, is_identical
from rostro.service.state import service_state
from rostro.store import face_cache, groups, training
from rostro.store.face_cache import StoredFace
from rostro.store.resources import ResourceRef
from rostro.vision.templates import template

MAX_IDENTIFY_FACES = 10
MAX_IDENTIFY_CANDIDATES = 100
MAX_SIMILAR_FACES = 1000
MAX_SIMILAR_CANDIDATES = 1000
MAX_GROUP_FACES = 1000
MATCH_PERSON = "matchPerson"
MATCH_FACE = "matchFace"


# ---------------------------------------------------------------------------- errors

def face_id_invalid() -> ApiError:
    return bad_argument("Face ID is invalid.")


def face_not_found() -> ApiError:
    return ApiError(404, "FaceNotFound", "Face is not found.")


def face_ids_length() -> ApiError:
    return bad_argument("The length of faceIds is not in a valid range.")


def incompatible_model() -> ApiError:
    return bad_argument("'recognitionModel' is incompatible.")


def group_ids_both() -> ApiError:
    return ApiError(400, "PersonGroupIdAndLargePersonGroupIdBothNotNull",
                    "Large person group ID and person group ID are both not null.")


def group_ids_none() -> ApiError:
    return ApiError(400, "PersonGroupIdAndLargePersonGroupIdBothNull",
                    "Large person group ID and person group ID are both null.")


def face_list_empty() -> ApiError:
    return ApiError(400, "FaceListNotReady", "Face list is empty.")


# ---------------------------------------------------------------------------- bodies

def face_id(value: object) -> str:
    return containers.parse_uuid(value, face_id_invalid)


def face_id_list(value: object, low: int, high: int) -> list[str]:
    """A list of faceIds of length low..high, duplicates dropped (first kept)."""
    if not isinstance(value, list):
        raise face_ids_length() if value is None else invalid_body()
    if not low <= len(value) <= high:
        raise face_ids_length()
    return list(dict.fromkeys(face_id(item) for item in value))


def integer(body: dict, name: str, default: int, low: int, high: int) -> int:
    value = body.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value):
        raise bad_argument(f"Invalid argument {name}.")
    if not low <= value <= high:
        raise bad_argument(f"Argument {name} out of range.")
    return int(value)


def number(body: dict, name: str, default: float | None, low: float, high: float) -> float | None:
    value = body.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise bad_argument(f"Invalid argument {name}.")
    if not low <= value <= high:
        raise bad_argument(f"Argument {name} out of range.")
    return float(value)


def person_group_kind(body: dict) -> tuple[Kind, str]:
    """Which (large) person group the body names: exactly one of the two ids."""
    small, large = body.get("personGroupId"), body.get("largePersonGroupId")
    if small is not None and large is not None:
        raise group_ids_both()
    if small is None and large is None:
        raise group_ids_none()
    kind, value = (containers.PERSON_GROUP, small) if small is not None else (containers.LARGE_PERSON_GROUP, large)
    if not isinstance(value, str):
        raise invalid_body()
    return kind, value


def cached_faces(connection, resource: ResourceRef, ids: list[str]) -> list[StoredFace]:
    """The cached faces of ``ids`` in order; FaceNotFound if any is unknown or expired, and
    BadArgument if they were detected with different recognition models."""
    found = face_cache.get_faces(connection, resource.id, ids)
    if len(found) != len(ids):
        raise face_not_found()
    faces = [found[i] for i in ids]
    if len({f.recognition_model for f in faces}) > 1:
        raise incompatible_model()
    return faces


def vectors(faces: list[StoredFace]) -> np.ndarray:
    return np.stack([np.asarray(f.embedding, np.float32) for f in faces])


# ---------------------------------------------------------------------------- search

async def trained_gallery(request: Request, resource: ResourceRef, kind: Kind,
                          container: groups.ContainerRow,
                          state: training.TrainingState) -> SearchableGallery:
    database = service_state(request).database
    files = service_state(request).gallery_files()
    return await run_in_threadpool(open_trained, database, files, resource.name, kind,
                                   container, state)


def require_trained(connection, kind: Kind, container: groups.ContainerRow
                    ) -> training.TrainingState:
    """The training state of a container that has a trained snapshot to search. Without
    one: 409 while the first training runs, else 400 NotTrained."""
    state = training.get_training(connection, container.pk)
    if state is None or not state.trained:
        if state is not None and state.status == training.RUNNING:
            raise kind.under_training(container.container_id)
        raise kind.not_trained(container.container_id)
    return state


# ---------------------------------------------------------------------------- routes

family = APIRouter(tags=["Face"])


@family.post("/verify", name="Verify",
             summary="Whether two faces, or a face and a person, are the same person")
async def verify(request: Request, resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    body = await containers.json_body(request)
    if "faceId1" in body or "faceId2" in body:
        ids = [face_id(body.get("faceId1")), face_id(body.get("faceId2"))]

        def work(connection):
            faces = cached_faces(connection, resource, list(dict.fromkeys(ids)))
            by_id = {f.face_id: f for f in faces}
            return float(np.dot(by_id[ids[0]].embedding, by_id[ids[1]].embedding))

        similarity = await containers.in_transaction(request, work)
    else:
        query_id = face_id(body.get("faceId"))
        kind, group_id = person_group_kind(body)
        person_id = body.get("personId")

        def work(connection):
            query = cached_faces(connection, resource, [query_id])[0]
            container = containers.require_container(connection, resource, kind, group_id)
            if query.recognition_model != container.recognition_model:
                raise incompatible_model()
            person = containers.require_person(connection, container, person_id)
            embeddings = groups.person_embeddings(connection, person.pk)
            if len(embeddings) == 0:
                return 0.0  # a person without faces matches nothing
            return float(np.dot(template(embeddings.vectors), query.embedding))

        similarity = await containers.in_transaction(request, work)
    score = confidence(similarity)
    return JSONResponse({"isIdentical": is_identical(score), "confidence": score})


@family.post("/identify", name="Identify",
             summary="The persons of a trained (large) person group that 1-10 faces may be")
async def identify(request: Request, resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    body = await containers.json_body(request)
    ids = face_id_list(body.get("faceIds"), 1, MAX_IDENTIFY_FACES)
    kind, group_id = person_group_kind(body)
    k = integer(body, "maxNumOfCandidatesReturned", 1, 1, MAX_IDENTIFY_CANDIDATES)
    threshold = number(body, "confidenceThreshold", None, 0.0, 1.0)
    threshold = DECISION_CONFIDENCE if threshold is None else threshold

    def load(connection):
        faces = cached_faces(connection, resource, ids)
        container = containers.require_container(connection, resource, kind, group_id)
        if faces[0].recognition_model != container.recognition_model:
            raise incompatible_model()
        return faces, container, require_trained(connection, kind, container)

    faces, container, state = await containers.in_transaction(request, load)
    gallery = await trained_gallery(request, resource, kind, container, state)
    fetch = k + container.removed_since_train
    hits = await run_in_threadpool(gallery.identify, vectors(faces), fetch)
    wanted = sorted({int(p) for h in hits for p in h.ids.tolist()})
    alive = await containers.in_transaction(
        request, lambda conn: groups.persons_by_pk(conn, container.pk, wanted))
    results = []
    for face, found in zip(faces, hits, strict=True):
        candidates: list[dict[str, object]] = []
        for person_pk, similarity in found:
            score = confidence(similarity)
            if int(person_pk) in alive and score >= threshold and len(candidates) < k:
                candidates.append({"personId": alive[int(person_pk)], "confidence": score})
        results.append({"faceId": face.face_id, "candidates": candidates})
    return JSONResponse(results)


@family.post("/findsimilars", name="Find Similar",
             summary="Faces similar to a face among faceIds, a face list or a large face list")
async def find_similar(request: Request,
                       resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    body = await containers.json_body(request)
    query_id = face_id(body.get("faceId"))
    sources = [name for name in ("faceIds", "faceListId", "largeFaceListId") if name in body]
    if len(sources) != 1:
        raise bad_argument("LargeFaceListId, faceListId and faceIds, not exactly one of them "
                           "is valid.")
    k = integer(body, "maxNumOfCandidatesReturned", 20, 1, MAX_SIMILAR_CANDIDATES)
    mode = body.get("mode", MATCH_PERSON)
    modes = {MATCH_PERSON.lower(): MATCH_PERSON, MATCH_FACE.lower(): MATCH_FACE}
    if not isinstance(mode, str) or mode.lower() not in modes:
        raise bad_argument("Invalid argument mode.")
    floor = DECISION_CONFIDENCE if modes[mode.lower()] == MATCH_PERSON else -1.0
    source = sources[0]

    if source == "faceIds":
        candidates = face_id_list(body["faceIds"], 1, MAX_SIMILAR_FACES)

        def work(connection):
            faces = cached_faces(connection, resource, list(dict.fromkeys([query_id, *candidates])))
            by_id = {f.face_id: f for f in faces}
            sims = vectors([by_id[i] for i in candidates]) @ by_id[query_id].embedding
            return [("faceId", i, float(s)) for i, s in zip(candidates, sims, strict=True)]

        scored = await containers.in_transaction(request, work)
    else:
        kind = containers.FACE_LIST if source == "faceListId" else containers.LARGE_FACE_LIST
        list_id = body[source]
        if not isinstance(list_id, str):
            raise invalid_body()

        def load(connection):
            query = cached_faces(connection, resource, [query_id])[0]
            container = containers.require_container(connection, resource, kind, list_id)
            if query.recognition_model != container.recognition_model:
                raise incompatible_model()
            if not kind.needs_training:
                faces = groups.container_embeddings(connection, container.pk)
                return query, container, None, faces
            return query, container, require_trained(connection, kind, container), None

        query, container, state, current = await containers.in_transaction(request, load)
        if state is None:  # a face list: search its faces as they are
            if len(current) == 0:
                raise face_list_empty()
            sims = current.vectors @ query.embedding
            names = await containers.in_transaction(request, lambda conn: groups.faces_by_pk(
                conn, container.pk, current.face_pks.tolist()))
            scored = [("persistedFaceId", names[int(pk)], float(s))
                      for pk, s in zip(current.face_pks, sims, strict=True)]
        else:
            gallery = await trained_gallery(request, resource, kind, container, state)
            fetch = k + container.removed_since_train
            hits = (await run_in_threadpool(gallery.find_similar, query.embedding[None], fetch)
                    if len(gallery) else [])
            found = hits[0] if hits else None
            pks = [int(pk) for pk in found.ids.tolist()] if found is not None else []
            names = await containers.in_transaction(
                request, lambda conn: groups.faces_by_pk(conn, container.pk, pks))
            scored = [("persistedFaceId", names[int(pk)], float(s))
                      for pk, s in (found or []) if int(pk) in names]
    scored.sort(key=lambda item: -item[2])
    results: list[dict[str, object]] = []
    for field, identifier, similarity in scored:
        score = confidence(similarity)
        if score >= floor and len(results) < k:
            results.append({field: identifier, "confidence": score})
    return JSONResponse(results)


@family.post("/group", name="Group",
             summary="Divide 2-1000 faces into groups of the same person, plus a messyGroup")
async def group(request: Request, resource: ResourceRef = Depends(authorize)) -> JSONResponse:
    body = await containers.json_body(request)
    ids = face_id_list(body.get("faceIds"), 2, MAX_GROUP_FACES)
    faces = await containers.in_transaction(request, lambda conn: cached_faces(conn, resource, ids))
    clusters = await run_in_threadpool(cluster, vectors(faces))
    groups_found = sorted((m for m in clusters if len(m) > 1), key=lambda m: (-len(m), m[0]))
    messy = sorted(m[0] for m in clusters if len(m) == 1)
    return JSONResponse({"groups": [[ids[i] for i in members] for members in groups_found],
                         "messyGroup": [ids[i] for i in messy]})


router = mount(family)

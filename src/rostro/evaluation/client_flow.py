"""Identification through a running service, call for call as an Azure client does it.

``rostro eval identification --endpoint URL --key KEY`` runs the protocol of
``rostro.evaluation.identification`` through the REST API with the official SDK
(azure-cognitiveservices-vision-face 0.6.1, the ``test`` extra), photo bytes as streams:

- Enrollment, per identity: its first ``enroll`` images (by path) in which Detect finds a face;
  each is added to its person with ``targetFace`` = the largest detected face's rectangle, as
  Detect returned it. A refused add-face is counted (``refused``) and not replaced, as a simple
  client script would leave it.
- Train the large person group and wait for it.
- Probes: every other image: Detect (largest face), then Identify with
  ``confidenceThreshold`` 0 so that rank 1 is read even below Identify's default threshold;
  ``at 0.5`` then asks for the default threshold as the engine report does.
- An image the API refuses (over 6 MB or 4096 px, no face of 36 px or more) has no face.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections import defaultdict
from pathlib import Path

from tqdm import tqdm

from rostro.evaluation.identification import Labelled, Outcome

log = logging.getLogger(__name__)

IDENTIFY_BATCH = 10  # Azure's limit of faceIds per Identify call
TRAINING_TIMEOUT = 600.0


def _refusal(exc) -> str:
    """The message of the Azure error an APIErrorException carries (its text without one)."""
    return exc.error.error.message if exc.error is not None else str(exc)


def _client(endpoint: str, key: str):
    try:
        from azure.cognitiveservices.vision.face import FaceClient
        from msrest.authentication import CognitiveServicesCredentials
    except ImportError as exc:  # the SDK is a test dependency, not a runtime one
        raise SystemExit("the client flow needs azure-cognitiveservices-vision-face==0.6.1 "
                         "(pip install -e '.[test]')") from exc
    return FaceClient(endpoint, CognitiveServicesCredentials(key))


def _largest_face(client, path: Path, return_face_id: bool):
    """Detect's largest face in the photo at ``path`` (None when none or refused)."""
    from azure.cognitiveservices.vision.face.models import APIErrorException

    try:
        with open(path, "rb") as stream:
            faces = client.face.detect_with_stream(stream, return_face_id=return_face_id)
    except APIErrorException as exc:
        log.info("detect refused %s: %s", path.name, _refusal(exc))
        return None
    return faces[0] if faces else None


def identify_through_api(folder: Path, items: list[Labelled], endpoint: str, key: str,
                         enroll: int) -> tuple[list[Outcome], dict]:
    """Run the client flow (module doc); return the probe outcomes and enrollment counts."""
    from azure.cognitiveservices.vision.face.models import APIErrorException

    client = _client(endpoint, key)
    group = f"eval-{uuid.uuid4().hex[:12]}"
    client.large_person_group.create(group, "rostro eval identification")
    by_identity: dict[str, list[Labelled]] = defaultdict(list)
    for item in sorted(items, key=lambda i: i.path):
        by_identity[item.identity].append(item)
    counts = {"added": 0, "refused": 0, "persons_without_face": 0}
    owner: dict[str, str] = {}
    probes: list[Labelled] = []
    try:
        for identity, members in tqdm(sorted(by_identity.items()), desc="enrolling",
                                      leave=False, disable=None):
            person = client.large_person_group_person.create(group, identity)
            owner[person.person_id] = identity
            enrolled = 0
            for member in members:
                if enrolled >= enroll:
                    probes.append(member)
                    continue
                face = _largest_face(client, folder / member.path, return_face_id=False)
                if face is None:
                    probes.append(member)
                    continue
                enrolled += 1
                box = face.face_rectangle
                try:
                    with open(folder / member.path, "rb") as stream:
                        client.large_person_group_person.add_face_from_stream(
                            group, person.person_id, stream,
                            target_face=[box.left, box.top, box.width, box.height])
                    counts["added"] += 1
                except APIErrorException as exc:
                    counts["refused"] += 1
                    log.warning("add face refused for %s: %s", member.path,
                                _refusal(exc))
            counts["persons_without_face"] += not enrolled
        client.large_person_group.train(group)
        deadline = time.monotonic() + TRAINING_TIMEOUT
        while client.large_person_group.get_training_status(group).status not in (
                "succeeded", "failed"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"training {group} did not finish")
            time.sleep(0.5)
        return _identify(client, group, folder, probes, owner), counts
    finally:
        client.large_person_group.delete(group)


def _identify(client, group: str, folder: Path, probes: list[Labelled],
              owner: dict[str, str]) -> list[Outcome]:
    found = [(probe, _largest_face(client, folder / probe.path, return_face_id=True))
             for probe in tqdm(probes, desc="detecting probes", leave=False, disable=None)]
    outcomes = [Outcome(p.source, False, False, None) for p, face in found if face is None]
    detected = [(p, face.face_id) for p, face in found if face is not None]
    for start in range(0, len(detected), IDENTIFY_BATCH):
        batch = detected[start:start + IDENTIFY_BATCH]
        results = client.face.identify([face_id for _, face_id in batch],
                                       large_person_group_id=group,
                                       max_num_of_candidates_returned=1,
                                       confidence_threshold=0.0)
        by_face = {r.face_id: r.candidates for r in results}
        for probe, face_id in batch:
            candidates = by_face.get(face_id) or []
            if not candidates:
                outcomes.append(Outcome(probe.source, True, False, 0.0))
                continue
            best = candidates[0]
            outcomes.append(Outcome(probe.source, True, owner[best.person_id] == probe.identity,
                                    float(best.confidence)))
    return outcomes

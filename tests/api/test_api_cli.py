"""`rostro resources` and `rostro keys` on a real database, beside a running server."""

from __future__ import annotations

import json
import re

import requests

from rostro.api.errors import INVALID_KEY

STREAM = {"Content-Type": "application/octet-stream"}


def keys_of(service, name: str) -> tuple[str, str]:
    text = service.cli("keys", "show", name).stdout
    return (re.search(r"KEY 1: (\w+)", text).group(1), re.search(r"KEY 2: (\w+)", text).group(1))


def test_resources_create_and_list(service):
    created = service.cli("resources", "create", "cli-s0", "--tier", "S0").stdout
    assert "tier:  S0" in created
    key1, key2 = keys_of(service, "cli-s0")
    assert re.fullmatch(r"[0-9a-f]{32}", key1) and re.fullmatch(r"[0-9a-f]{32}", key2)
    assert key1 != key2
    assert service.cli("keys", "show", "cli-s0", "--key", "2").stdout.strip() == key2
    listed = json.loads(service.cli("resources", "list", "--json").stdout)
    assert {"name": "default", "tier": "F0", "sensitiveAttributes": True} in listed
    assert {"name": "cli-s0", "tier": "S0", "sensitiveAttributes": True} in listed
    table = service.cli("resources", "list").stdout
    assert re.search(r"^cli-s0\s+S0\s+on\s+\d{4}-", table, re.M)


def test_resources_create_refuses_bad_input(service):
    again = service.cli("resources", "create", "default", check=False)
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = service.cli("resources", "create", "no spaces!", check=False)
    assert bad.returncode == 1 and "invalid resource name" in bad.stderr
    tier = service.cli("resources", "create", "x-tier", "--tier", "P9", check=False)
    assert tier.returncode == 2  # argparse: invalid choice


def test_regenerate_key1_keeps_key2_working(service, images):
    service.cli("resources", "create", "rotate", "--tier", "unlimited")
    old1, key2 = keys_of(service, "rotate")

    def status(key: str) -> requests.Response:
        return requests.post(service.url("/face/v1.0/detect?returnFaceId=false"), timeout=60,
                             data=images["face.jpg"],
                             headers={"Ocp-Apim-Subscription-Key": key, **STREAM})

    assert status(old1).status_code == 200
    printed = service.cli("keys", "regenerate", "rotate", "--key", "1").stdout
    new1 = re.search(r"KEY 1: (\w+)", printed).group(1)
    assert new1 != old1 and keys_of(service, "rotate") == (new1, key2)
    refused = status(old1)
    assert refused.status_code == 401 and refused.json()["error"]["message"] == INVALID_KEY
    assert status(new1).status_code == 200
    assert status(key2).status_code == 200


def test_keys_of_unknown_resource(service):
    result = service.cli("keys", "show", "nobody", check=False)
    assert result.returncode == 1 and "no resource named 'nobody'" in result.stderr


def test_sensitive_attributes_switch(service, images):
    """Off: age, gender and emotion get Azure's 403 UnsupportedFeature, on v1.0 and v1.2, and
    nothing else changes; on again: they are answered."""
    service.cli("resources", "create", "private", "--tier", "unlimited")
    key, _ = keys_of(service, "private")

    def detect(attributes: str, version: str = "v1.0") -> requests.Response:
        return requests.post(
            service.url(f"/face/{version}/detect?returnFaceId=false"
                        f"&returnFaceAttributes={attributes}&detectionModel=detection_01"),
            data=images["face.jpg"], timeout=60,
            headers={"Ocp-Apim-Subscription-Key": key, **STREAM})

    printed = service.cli("resources", "set", "private", "--sensitive-attributes", "off").stdout
    assert "sensitive attributes (age, gender, emotion) off" in printed
    listed = json.loads(service.cli("resources", "list", "--json").stdout)
    assert {"name": "private", "tier": "unlimited", "sensitiveAttributes": False} in listed
    for attributes, version in (("age,gender,glasses,emotion", "v1.0"), ("emotion", "v1.0"),
                                ("age,headPose", "v1.2")):
        refused = detect(attributes, version)
        assert refused.status_code == 403, (attributes, version, refused.text)
        asked = [a for a in attributes.split(",") if a in ("age", "gender", "emotion")]
        assert refused.json() == {"error": {
            "code": "UnsupportedFeature",
            "message": "Feature is not supported, missing approval for one or more of the "
                       f"following features: {', '.join(asked)}."}}
    served = detect("glasses,headPose,smile")
    assert served.status_code == 200
    assert set(served.json()[0]["faceAttributes"]) == {"glasses", "headPose", "smile"}
    # Other resources keep them.
    default_key, _ = keys_of(service, "default")
    assert requests.post(service.url("/face/v1.0/detect?returnFaceAttributes=age"),
                         data=images["face.jpg"], timeout=60,
                         headers={"Ocp-Apim-Subscription-Key": default_key, **STREAM}
                         ).status_code == 200

    service.cli("resources", "set", "private", "--sensitive-attributes", "on")
    answered = detect("age,gender,emotion")
    assert answered.status_code == 200
    assert set(answered.json()[0]["faceAttributes"]) == {"age", "gender", "emotion"}
    missing = service.cli("resources", "set", "private", check=False)
    assert missing.returncode == 1 and "give --tier" in missing.stderr

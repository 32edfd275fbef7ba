"""Path normalisation: Azure clients' paths match in any case; Studio names keep theirs."""

from rostro.api.middleware import normalize_path

LITERALS = frozenset({"face", "v1.0", "detect", "persongroups", "persons", "persistedfaces",
                      "studio", "resources", "people"})


def test_api_paths_match_case_insensitively_and_collapse_slashes():
    assert normalize_path("//face/v1.0/Detect/", LITERALS) == "/face/v1.0/detect"
    assert (normalize_path("/face/v1.0/persongroups/g1/persons/P-Id/persistedFaces", LITERALS)
            == "/face/v1.0/persongroups/g1/persons/P-Id/persistedfaces")


def test_studio_paths_keep_user_chosen_names():
    assert normalize_path("/studio/resources/People", LITERALS) == "/studio/resources/People"
    assert normalize_path("/studio//resources/Detect/", LITERALS) == "/studio/resources/Detect"


def test_version_segments_are_case_folded():
    from rostro.api import versions
    from rostro.api.middleware import normalize_path

    literals = LITERALS | {v.lower() for v in versions.ALL}
    assert normalize_path("/face/V1.2-Preview.1/Detect", literals) == "/face/v1.2-preview.1/detect"

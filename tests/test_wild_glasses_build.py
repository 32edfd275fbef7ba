"""The glasses extension's second batch (issue 12): new groups only measure, never train."""

from __future__ import annotations

from rostro_training.wild import glasses_build


def test_measure_split_gives_val_or_test_by_group():
    """A new group of the second batch lands in val or test, about half each, and the same
    group always in the same split (the hash decides, not the order photos are listed in)."""
    keys = [f"sof:P{k:03d}" for k in range(400)]
    splits = [glasses_build.measure_split_of(k) for k in keys]
    assert set(splits) == {"val", "test"}
    assert 150 <= splits.count("val") <= 250
    assert [glasses_build.measure_split_of(k) for k in reversed(keys)] == splits[::-1]


def test_second_batch_sources_are_pinned_and_new():
    """The batch's sources are pinned by commit, listed in SOURCES, and named apart from the first."""
    names = [s.name for s in glasses_build.SOURCES]
    assert len(names) == len(set(names))
    for source in glasses_build.EXTENSION:
        assert source in glasses_build.SOURCES and len(source.commit) == 40
    assert glasses_build.FIRST_ID == len(glasses_build.settled_faces()) + 1


def test_person_roots_join_faces_of_one_person_transitively():
    """a~b and b~c put a, b and c in one person even when a and c are further apart."""
    import numpy as np

    angle = np.arccos(glasses_build.SAME_PERSON) * 0.9  # each step just inside the threshold
    vectors = np.array([[np.cos(t), np.sin(t)] for t in (0.0, angle, 2 * angle, np.pi)])
    roots = glasses_build.person_roots(vectors)
    assert roots[0] == roots[1] == roots[2] != roots[3]

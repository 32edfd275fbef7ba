"""Synthetic face-like embeddings for tests and benchmarks (no images, no models).

Each synthetic person has a random unit "centre"; each of their faces is the centre plus
Gaussian noise, renormalised. With the default noise two faces of one person have cosine
similarity about 0.6 and faces of different people about 0 ± 1/sqrt(dim), which is roughly
what SFace gives on real photos, and it gives nearest-neighbour search the clustered
structure real galleries have (uniform random vectors would be unrealistically hard).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SyntheticGallery:
    """``ids`` (int64, 0..n-1), ``persons`` (int64 person of each face) and ``embeddings``
    (float32, one unit row per face), plus the persons' ``centres`` to draw queries from."""

    ids: np.ndarray
    persons: np.ndarray
    embeddings: np.ndarray
    centres: np.ndarray
    noise: float


def normalize(rows: np.ndarray) -> np.ndarray:
    """Return ``rows`` scaled to unit L2 norm (float32), in place when already float32."""
    rows = np.asarray(rows, dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


def clustered_gallery(
    n_faces: int,
    dim: int = 128,
    faces_per_person: int = 4,
    noise: float = 0.8,
    seed: int = 0,
    chunk: int = 65536,
) -> SyntheticGallery:
    """Make ``n_faces`` unit embeddings of ``ceil(n_faces / faces_per_person)`` persons.

    Generated in chunks of float32 so that a million 128-d faces need ~0.5 GB, not 1 GB.
    """
    rng = np.random.default_rng(seed)
    n_persons = max(1, -(-n_faces // faces_per_person))
    centres = normalize(rng.standard_normal((n_persons, dim), dtype=np.float32))
    persons = np.arange(n_faces, dtype=np.int64) // faces_per_person
    embeddings = np.empty((n_faces, dim), dtype=np.float32)
    scale = np.float32(noise / np.sqrt(dim))  # noise vector norm ≈ noise
    for start in range(0, n_faces, chunk):
        stop = min(n_faces, start + chunk)
        block = rng.standard_normal((stop - start, dim), dtype=np.float32) * scale
        block += centres[persons[start:stop]]
        embeddings[start:stop] = normalize(block)
    return SyntheticGallery(np.arange(n_faces, dtype=np.int64), persons, embeddings, centres, noise)


def probe_queries(
    gallery: SyntheticGallery, n_queries: int, seed: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``n_queries`` fresh faces of random gallery persons: (unit queries, persons)."""
    rng = np.random.default_rng(seed)
    n_persons, dim = gallery.centres.shape
    persons = rng.integers(0, n_persons, size=n_queries)
    scale = np.float32(gallery.noise / np.sqrt(dim))
    noise = rng.standard_normal((n_queries, dim), dtype=np.float32) * scale
    return normalize(gallery.centres[persons] + noise), persons.astype(np.int64)

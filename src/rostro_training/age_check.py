"""The served age and gender on photos whose age is stated by their source (issue 12, point 4).

Rostro's age in years was measured only on the lab UTKFace dev crops; the in-the-wild set has
age bins labelled by eye. This check reads photos whose source states the person's age (a
dataset's file name or table, never our guess), pinned by repository and commit in
``wild/age_sources.csv``, from git mirrors (``--mirror DIR`` holds ``owner+name/repo`` git
directories, as for ``rostro.evaluation.wild``); no image is committed. Each photo is analysed
as the service answers it (the largest face, as ``Analyzer.analyze`` picks it; age, gender),
and the report gives the faces found, the mean absolute error of the served age overall and
per true-age band, the share of true adults answered under 16 and of children answered 18 or
more (Wilson 95 % intervals), and the gender accuracy where the source states gender.

Measurement only: nothing here is fitted, selected or tuned on these photos.

    python -m rostro_training.age_check --mirror /work/.mirror [--json OUT]
    python -m rostro_training.age_check --mirror /work/.mirror --write-manifest   (re-pick)
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import logging
import re
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from rostro.evaluation.metrics import wilson_interval
from rostro.evaluation.wild import WildDataMissing, git_dir, load_photo

log = logging.getLogger(__name__)

MANIFEST = Path(__file__).parent / "wild" / "age_sources.csv"
FIELDS = ("source", "repo", "commit", "path", "age", "gender", "licence", "age_known_by")
# True-age bands of the report: (name, lowest age, highest age), inclusive.
BANDS = (("0-12", 0, 12), ("13-17", 13, 17), ("18-39", 18, 39), ("40-64", 40, 64),
         ("65+", 65, 200))
ADULT = 18  # true adults: answered under CHILD_ANSWER is the failure issue 12 names
CHILD_ANSWER = 16
CHILD = 13  # true children: answered ADULT or more
BOOTSTRAP = 1000
GREY_SPREAD = 8.0  # mean max-min channel spread (0-255) under which a photo counts as grey


class AgeManifestError(ValueError):
    """A manifest row is malformed (unknown field value, age out of range)."""


@dataclass(frozen=True)
class AgeSource:
    """A pinned folder of photos whose file names state the pictured person's age."""

    name: str
    repo: str
    commit: str
    folder: str
    licence: str
    age_known_by: str
    parse: Callable[[str], tuple[int, str] | None]  # file name -> (age, gender) or None
    per_band: tuple[int, ...]  # photos picked per BANDS entry, half of each gender


def _aaf_labels(name: str) -> tuple[int, str] | None:
    """All-Age-Faces: ``%05dA%02d.jpg`` is serial and age; serials 0-7380 are female."""
    match = re.fullmatch(r"(\d{5})A(\d{2})\.jpg", name)
    if match is None:
        return None
    serial, age = int(match.group(1)), int(match.group(2))
    return age, "female" if serial <= 7380 else "male"


SOURCES = (
    AgeSource(
        name="aaf", repo="middleyuan/All-Age-Faces-Dataset",
        commit="28741a75e2efb7a2f96e13d4beb58411536f473d",
        folder="All-Age-Faces Dataset/original images",
        licence=("no licence stated (repository nor dataset README; the README asks to cite "
                 "Cheng et al. 2019); internal evaluation only"),
        age_known_by=("file name %05dA%02d = serial and age, per the dataset README "
                      "(JingchunCheng/All-Age-Faces-Dataset); gender by serial range "
                      "(0-7380 female, 7381-13321 male); how the ages were obtained is not "
                      "documented"),
        parse=_aaf_labels, per_band=(100, 100, 100, 100, 100)),
)


def band_of(age: float) -> str:
    """Return the name of the BANDS entry holding a true age in years."""
    for name, low, high in BANDS:
        if low <= age <= high:
            return name
    raise AgeManifestError(f"age {age} is outside every band")


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()


def is_colour(image: np.ndarray) -> bool:
    """Return whether a BGR photo has colour (grey scans have near-equal channels)."""
    pixels = image.reshape(-1, 3).astype(np.int16)
    return float(np.mean(np.ptp(pixels, axis=1))) >= GREY_SPREAD


def pick_rows(source: AgeSource, paths: Sequence[str],
              keep: Callable[[str], bool]) -> list[dict[str, str]]:
    """Return the manifest rows picked from a source's photo paths.

    Per band, ``per_band`` photos, half female and half male, taken in the order of the SHA-1
    of the path (a fixed, content-blind shuffle) among those ``keep`` accepts (colour photos),
    then sorted by path.
    """
    labelled = [(p, source.parse(p.rsplit("/", 1)[-1])) for p in paths]
    rows = []
    for (band, _, _), quota in zip(BANDS, source.per_band, strict=True):
        for gender, share in (("female", quota // 2), ("male", quota - quota // 2)):
            pool = sorted((_digest(p), p, lab[0]) for p, lab in labelled
                          if lab is not None and lab[1] == gender and band_of(lab[0]) == band)
            kept: list[tuple[str, int]] = []
            for _, path, age in pool:
                if len(kept) == share:
                    break
                if keep(path):
                    kept.append((path, age))
            if len(kept) < share:
                raise AgeManifestError(f"{source.name}: {len(kept)} {gender} photos in {band}")
            rows += [{"source": source.name, "repo": source.repo, "commit": source.commit,
                      "path": path, "age": str(age), "gender": gender,
                      "licence": source.licence, "age_known_by": source.age_known_by}
                     for path, age in kept]
    return sorted(rows, key=lambda r: r["path"])


def list_folder(mirror: Path, source: AgeSource) -> list[str]:
    """Return the file paths under a source's folder at its pinned commit."""
    out = subprocess.run(["git", f"--git-dir={git_dir(mirror, source.repo)}", "ls-tree", "-r",
                          "--name-only", source.commit, "--", source.folder + "/"],
                         check=True, capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if line]


def write_manifest(mirror: Path, path: Path = MANIFEST,
                   sources: Sequence[AgeSource] = SOURCES) -> list[dict[str, str]]:
    """Pick every source's photos from its mirror and write the manifest; return its rows."""
    rows = []
    for source in sources:
        def keep(path: str, source: AgeSource = source) -> bool:
            return is_colour(load_photo(mirror, source.repo, source.commit, path))

        rows += pick_rows(source, list_folder(mirror, source), keep)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_manifest(path: Path = MANIFEST) -> list[dict[str, str]]:
    """Return the manifest's rows, checked: 40-hex commits, ages 0-120, gender known or blank."""
    if not path.is_file():
        raise WildDataMissing(f"no age manifest at {path}")
    with path.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:
        if not re.fullmatch(r"[0-9a-f]{40}", row["commit"]):
            raise AgeManifestError(f"{row['path']}: commit {row['commit']!r} is not pinned")
        if not row["age"].isdigit() or int(row["age"]) > 120:
            raise AgeManifestError(f"{row['path']}: age {row['age']!r}")
        if row["gender"] not in ("female", "male", ""):
            raise AgeManifestError(f"{row['path']}: gender {row['gender']!r}")
    return rows


@dataclass(frozen=True)
class AgeAnswer:
    """The service's answer for one manifest photo (None everywhere when no face was found).

    ``head_age`` and ``faceres_age`` are the two parts the served age is arbitrated from
    (``demographics.served_age``), kept to show which one errs."""

    path: str
    true_age: int
    true_gender: str
    age: float | None
    gender: str | None
    face_px: float  # the shorter side of the detector's box, 0 when no face
    head_age: float | None = None
    faceres_age: float | None = None


def answer_photo(analyzer, image: np.ndarray, row: dict[str, str]) -> AgeAnswer:
    """Answer age and gender for the largest face of one photo, as ``Analyzer.analyze`` does
    (same face, same engine run), keeping the served age's two parts from the same context."""
    from rostro.vision.attributes.demographics import faceres_years
    from rostro.vision.attributes.features import faceres, head_output
    from rostro.vision.types import Face

    located = analyzer.locate(image, max_faces=1)
    if not located:
        return AgeAnswer(path=row["path"], true_age=int(row["age"]),
                         true_gender=row["gender"], age=None, gender=None, face_px=0.0)
    detection, rectangle = located[0]
    face = Face(detection=detection, rectangle=rectangle)
    ctx = analyzer.attributes.context(image, face)
    values = analyzer.attributes.run(image, face, ("age", "gender"), ctx)
    return AgeAnswer(
        path=row["path"], true_age=int(row["age"]), true_gender=row["gender"],
        age=float(values["age"]), gender=str(values["gender"]),
        face_px=float(min(detection.box.width, detection.box.height)),
        head_age=float(head_output(ctx, "age")),
        faceres_age=float(faceres_years(faceres(ctx).age_probabilities)))


def answer_photos(analyzer, mirror: Path, rows: Sequence[dict[str, str]]) -> list[AgeAnswer]:
    """Answer every manifest photo (read from its mirror), in order."""
    return [answer_photo(analyzer, load_photo(mirror, row["repo"], row["commit"], row["path"]),
                         row) for row in rows]


def _mae(errors: np.ndarray, seed: int = 0) -> dict:
    """Return the mean absolute error with a bootstrap 95 % interval (n, mae, mae_ci)."""
    if errors.size == 0:
        return {"n": 0, "mae": float("nan"), "mae_ci": [float("nan"), float("nan")]}
    rng = np.random.default_rng(seed)
    means = errors[rng.integers(0, errors.size, (BOOTSTRAP, errors.size))].mean(axis=1)
    return {"n": int(errors.size), "mae": float(errors.mean()),
            "mae_ci": [float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))]}


def _share(hits: int, total: int) -> dict:
    return {"hits": hits, "n": total, "share": hits / total if total else float("nan"),
            "ci": list(wilson_interval(hits, total))}


def score_answers(answers: Sequence[AgeAnswer]) -> dict:
    """Return the report's figures over the answers (faces not found are left out of the
    age and gender figures and counted in ``found``)."""
    found = [a for a in answers if a.age is not None]
    truth = np.array([a.true_age for a in found], dtype=float)
    said = np.array([a.age for a in found], dtype=float)
    errors = np.abs(said - truth)
    by_band = {name: _mae(errors[(truth >= low) & (truth <= high)]) for name, low, high in BANDS}
    bias = {name: float(np.mean((said - truth)[(truth >= low) & (truth <= high)]))
            for name, low, high in BANDS if np.any((truth >= low) & (truth <= high))}
    adults, children = truth >= ADULT, truth < CHILD
    with_parts = [a for a in found if a.head_age is not None and a.faceres_age is not None]
    part_truth = np.array([a.true_age for a in with_parts], dtype=float)
    parts = {name: _mae(np.abs(np.clip(np.array([getattr(a, name) for a in with_parts],
                                                dtype=float), 0, 100) - part_truth))
             for name in ("head_age", "faceres_age")}
    gendered = [a for a in found if a.true_gender]
    gender_by_band = {
        name: _share(sum(a.gender == a.true_gender for a in gendered if low <= a.true_age <= high),
                     sum(low <= a.true_age <= high for a in gendered))
        for name, low, high in BANDS}
    return {
        "photos": len(answers), "found": _share(len(found), len(answers)),
        "age_mae": _mae(errors), "age_mae_by_band": by_band, "age_bias_by_band": bias,
        "parts_mae": parts,
        "adults_under_16": _share(int(np.sum(said[adults] < CHILD_ANSWER)), int(adults.sum())),
        "children_18_plus": _share(int(np.sum(said[children] >= ADULT)), int(children.sum())),
        "minors_18_plus": _share(int(np.sum(said[~adults] >= ADULT)), int((~adults).sum())),
        "gender_accuracy": _share(sum(a.gender == a.true_gender for a in gendered),
                                  len(gendered)),
        "gender_accuracy_by_band": gender_by_band,
        "median_face_px": float(np.median([a.face_px for a in found])) if found else 0.0,
    }


def _interval(ci: Sequence[float]) -> str:
    return f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def format_report(scores: dict) -> str:
    """Return the figures as plain text lines."""
    found = scores["found"]
    lines = [f"faces found: {found['hits']} of {found['n']} photos "
             f"(median face {scores['median_face_px']:.0f} px)",
             f"age MAE: {scores['age_mae']['mae']:.2f} years "
             f"(95 % {scores['age_mae']['mae_ci'][0]:.2f}-{scores['age_mae']['mae_ci'][1]:.2f}),"
             f" n={scores['age_mae']['n']}"]
    for band, figure in scores["age_mae_by_band"].items():
        if figure["n"]:
            lines.append(f"  {band:>5}: MAE {figure['mae']:.2f} (95 % {figure['mae_ci'][0]:.2f}-"
                         f"{figure['mae_ci'][1]:.2f}), mean error "
                         f"{scores['age_bias_by_band'][band]:+.2f}, n={figure['n']}")
    parts = scores["parts_mae"]
    lines.append(f"  parts alone: age head MAE {parts['head_age']['mae']:.2f}, FaceRes' own age "
                 f"MAE {parts['faceres_age']['mae']:.2f}")
    for key, text in (("adults_under_16", "true adults (18+) answered under 16"),
                      ("children_18_plus", "children (<13) answered 18+"),
                      ("minors_18_plus", "under-18s answered 18+"),
                      ("gender_accuracy", "gender accuracy")):
        share = scores[key]
        lines.append(f"{text}: {share['hits']} of {share['n']} = {share['share']:.3f} "
                     f"(95 % {_interval(share['ci'])})")
    for band, share in scores["gender_accuracy_by_band"].items():
        if share["n"]:
            lines.append(f"  {band:>5}: {share['hits']} of {share['n']} = {share['share']:.3f} "
                         f"(95 % {_interval(share['ci'])})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mirror", type=Path, required=True,
                        help="folder holding owner+name/repo git mirrors of the pinned sources")
    parser.add_argument("--json", type=Path, help="also write the figures and answers here")
    parser.add_argument("--write-manifest", action="store_true",
                        help="re-pick the photos from the mirrors into the manifest and stop")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if args.write_manifest:
        log.info("picked %d photos into %s", len(write_manifest(args.mirror)), MANIFEST)
        return 0
    from rostro.vision.analyzer import open_analyzer

    answers = answer_photos(open_analyzer(), args.mirror, read_manifest())
    scores = score_answers(answers)
    print(format_report(scores))
    if args.json:
        args.json.write_text(json.dumps({"scores": scores,
                                         "answers": [asdict(a) for a in answers]}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

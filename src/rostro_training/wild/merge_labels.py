"""Merge the labellers' passes over the in-the-wild faces into ``rostro_training/labels/wild.csv``.

Two independent passes (``labels_A.csv``, ``labels_B.csv``, header ``LABEL_FIELDS``) are
compared field by field (percent agreement and Cohen's kappa); every face with a
disagreement goes to ``disputes.csv`` for a third labeller. Once ``labels_C.csv`` (same
header, the disputed faces) exists, a disputed field takes the value two of the three passes
share; a field with no such majority, or with no third pass yet, becomes ``unsure`` (left
out of measurement and training).

    python -m rostro_training.wild.merge_labels --notes /work/notes/wild            # agreement, disputes
    python -m rostro_training.wild.merge_labels --notes /work/notes/wild --final    # + wild.csv, docs

``--final`` writes the label file even without a third pass (disputed fields stay unsure).
"""

from __future__ import annotations

import argparse
import csv
import logging
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from rostro_training import LABELS_DIR, checkout

log = logging.getLogger("wild.merge")

LABELS_OUT = LABELS_DIR / "wild.csv"
# The agreement table goes into the checkout's docs (labelling is done in a source checkout).
DOC = (checkout() or Path.cwd()) / "docs" / "attributes.md"
DOC_BEGIN, DOC_END = "<!-- wild-agreement:begin -->", "<!-- wild-agreement:end -->"

UNSURE = "unsure"
FIELDS: dict[str, tuple[str, ...]] = {
    "glasses": ("none", "eyeglasses", "sunglasses", "goggles"),
    "smile": ("0", "1"),
    "moustache": ("0", "1"),
    "beard": ("0", "1"),
    "headwear": ("0", "1"),
    "gender": ("male", "female"),
    "age": ("child", "teen", "adult", "senior"),
    "emotion": ("anger", "contempt", "disgust", "fear", "happiness", "neutral", "sadness",
                "surprise"),
    "hair": ("black", "brown", "blond", "red", "gray", "white", "bald", "hidden"),
}
LABEL_FIELDS = ["face_id", *FIELDS]
FACE_COLUMNS = ["face_id", "source", "repo", "commit", "path", "x", "y", "w", "h", "split"]


class LabelFileError(ValueError):
    """A labeller's file does not follow GUIDE.md (bad header, value or face id)."""


@dataclass(frozen=True)
class Agreement:
    """Agreement of two passes on one field."""

    field: str
    both_sure: int  # faces where neither pass wrote unsure
    agree: int  # of those, faces where the two values are equal
    kappa: float  # Cohen's kappa over the both-sure faces
    unsure_a: int
    unsure_b: int

    @property
    def percent(self) -> float:
        return 100.0 * self.agree / self.both_sure if self.both_sure else float("nan")


def normalise(field: str, value: str) -> str:
    """Return a label value in GUIDE.md's spelling; LabelFileError if it is not one."""
    value = value.strip().lower()
    # Forgiving about the obvious variants a labeller may type; strict about the rest.
    value = {"": UNSURE, "?": UNSURE, "no": "0", "yes": "1", "grey": "gray",
             "happy": "happiness", "sad": "sadness", "angry": "anger", "surprised": "surprise",
             "m": "male", "f": "female"}.get(value, value)
    if value != UNSURE and value not in FIELDS[field]:
        raise LabelFileError(f"{field}: {value!r} is not one of {FIELDS[field]} or unsure")
    return value


def read_labels(path: Path, face_ids: set[str]) -> dict[str, dict[str, str]]:
    """Return ``{face_id: {field: value}}`` of one labeller's file, checked against the guide."""
    with path.open(newline="") as fh:
        reader = csv.DictReader(fh)
        missing = set(LABEL_FIELDS) - set(reader.fieldnames or ())
        if missing:
            raise LabelFileError(f"{path}: header lacks {sorted(missing)}")
        labels = {}
        for line, row in enumerate(reader, start=2):
            face_id = row["face_id"].strip()
            if face_id not in face_ids:
                raise LabelFileError(f"{path}:{line}: unknown face id {face_id!r}")
            try:
                labels[face_id] = {f: normalise(f, row[f] or "") for f in FIELDS}
            except LabelFileError as err:
                raise LabelFileError(f"{path}:{line}: {err}") from err
    return labels


def cohen_kappa(a: list[str], b: list[str]) -> float:
    """Return Cohen's kappa of two equally long label lists (nan when undefined)."""
    n = len(a)
    if n == 0:
        return float("nan")
    observed = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    expected = sum(ca[k] * cb[k] for k in ca) / (n * n)
    return (observed - expected) / (1 - expected) if expected < 1 else float("nan")


def agreement(a: dict[str, dict[str, str]], b: dict[str, dict[str, str]]) -> list[Agreement]:
    """Return per-field agreement of two passes over the faces both labelled."""
    common = sorted(set(a) & set(b))
    out = []
    for field in FIELDS:
        pairs = [(a[f][field], b[f][field]) for f in common]
        sure = [(x, y) for x, y in pairs if UNSURE not in (x, y)]
        out.append(Agreement(field, len(sure), sum(x == y for x, y in sure),
                             cohen_kappa([x for x, _ in sure], [y for _, y in sure]),
                             sum(x == UNSURE for x, _ in pairs), sum(y == UNSURE for _, y in pairs)))
    return out


def disputed_fields(a: dict[str, str], b: dict[str, str]) -> list[str]:
    """Fields where two passes differ (one unsure and one sure counts as a dispute)."""
    return [f for f in FIELDS if a[f] != b[f]]


def settle(values: list[str]) -> str:
    """Return the value at least two passes share (unsure never wins), else unsure."""
    counts = Counter(v for v in values if v != UNSURE)
    top = counts.most_common(1)
    return top[0][0] if top and top[0][1] >= 2 else UNSURE


def merge(a: dict, b: dict, c: dict) -> dict[str, dict[str, str]]:
    """Return the final labels of every face both A and B labelled."""
    final = {}
    for face_id in sorted(set(a) & set(b)):
        third = c.get(face_id, {})
        final[face_id] = {f: a[face_id][f] if a[face_id][f] == b[face_id][f]
                          else settle([a[face_id][f], b[face_id][f], third.get(f, UNSURE)])
                          for f in FIELDS}
    return final


def read_faces(path: Path) -> list[dict[str, str]]:
    """Return the rows of build.py's faces.csv."""
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def write_disputes(path: Path, faces: dict[str, dict], a: dict, b: dict) -> int:
    """Write one row per disputed face (its sheet and the fields in dispute); return the count.

    The third labeller labels these faces from scratch (all fields, GUIDE.md's format) into
    labels_C.csv; only the disputed fields are used.
    """
    rows = []
    for face_id in sorted(set(a) & set(b)):
        fields = disputed_fields(a[face_id], b[face_id])
        if fields:
            rows.append({"face_id": face_id, "sheet": faces[face_id]["sheet"],
                         "fields": " ".join(fields)})
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, ["face_id", "sheet", "fields"])
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def settled_counts(a: dict, b: dict, final: dict) -> tuple[int, int]:
    """Return (disputed fields given a value, disputed fields left unsure) after the merge."""
    disputed = [(f, field) for f in final for field in disputed_fields(a[f], b[f])]
    settled = sum(final[f][field] != UNSURE for f, field in disputed)
    return settled, len(disputed) - settled


def agreement_table(rows: list[Agreement], n_faces: int, n_disputed: int, third: int,
                    settled: tuple[int, int] | None = None) -> str:
    """Markdown table of per-field agreement, for docs/attributes.md."""
    after = (f" Of the disputed fields, {settled[0]} got a value two passes share and "
             f"{settled[1]} stay unsure." if settled else "")
    lines = [f"Two independent passes over {n_faces} faces; {n_disputed} faces had at least one "
             f"field in dispute; a third pass covered {third} of them.{after}", "",
             "| field | both sure | agree | agreement | Cohen's kappa | unsure A | unsure B |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r.field} | {r.both_sure} | {r.agree} | {r.percent:.1f} % | "
                     f"{r.kappa:.2f} | {r.unsure_a} | {r.unsure_b} |")
    return "\n".join(lines)


def write_doc_section(text: str, doc: Path = DOC) -> None:
    """Replace the agreement section of docs/attributes.md (between its markers)."""
    body = doc.read_text()
    block = f"{DOC_BEGIN}\n{text}\n{DOC_END}"
    if DOC_BEGIN in body:
        body = re.sub(re.escape(DOC_BEGIN) + r".*?" + re.escape(DOC_END), lambda _: block, body,
                      flags=re.S)
    else:
        body = body.rstrip("\n") + "\n\n## In-the-wild labels: agreement\n\n" + block + "\n"
    doc.write_text(body)


def write_final(path: Path, faces: dict[str, dict], final: dict) -> Counter:
    """Write rostro_training/labels/wild.csv (no images: source, box, split, labels); return splits."""
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, FACE_COLUMNS + list(FIELDS))
        writer.writeheader()
        for face_id, labels in sorted(final.items()):
            writer.writerow({**{c: faces[face_id][c] for c in FACE_COLUMNS}, **labels})
    return Counter(faces[f]["split"] for f in final)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--notes", type=Path, default=Path("/work/notes/wild"),
                        help="folder with faces.csv and labels_A/B(/C).csv")
    parser.add_argument("--final", action="store_true",
                        help="write rostro_training/labels/wild.csv and the docs table")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    faces = {row["face_id"]: row for row in read_faces(args.notes / "faces.csv")}
    a = read_labels(args.notes / "labels_A.csv", set(faces))
    b = read_labels(args.notes / "labels_B.csv", set(faces))
    c_path = args.notes / "labels_C.csv"
    c = read_labels(c_path, set(faces)) if c_path.is_file() else {}
    log.info("faces %d, labelled by A %d, by B %d, by both %d, third pass %d", len(faces),
             len(a), len(b), len(set(a) & set(b)), len(c))
    rows = agreement(a, b)
    disputes = args.notes / "disputes.csv"
    n_disputed = sum(bool(disputed_fields(a[f], b[f])) for f in set(a) & set(b))
    if len(a) == len(b) == len(faces):
        write_disputes(disputes, faces, a, b)
        log.info("%d disputed faces written to %s", n_disputed, disputes)
    else:
        # A partial list would send the third labeller off before the passes are done.
        log.info("passes incomplete: %s not written", disputes.name)
    final = merge(a, b, c)
    table = agreement_table(rows, len(set(a) & set(b)), n_disputed, len(c),
                            settled_counts(a, b, final))
    print(table)
    if args.final:
        splits = write_final(LABELS_OUT, faces, final)
        write_doc_section(table)
        log.info("wrote %s (%s) and the agreement table in %s", LABELS_OUT, dict(splits), DOC)
    return 0


if __name__ == "__main__":
    sys.exit(main())

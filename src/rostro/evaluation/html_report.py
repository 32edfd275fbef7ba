"""An HTML page people can look at: per-attribute confusion tables and the worst mistakes.

Source-agnostic: an evaluation (the lab dev sets, the wild set, anything else) hands in
``Section``s built from plain ``Outcome`` rows (a thumbnail, the answer, the label, the score
behind the answer). ``write_report`` writes one self-contained ``index.html`` (inline CSS,
thumbnails as inline base64 JPEG) into a folder, so the page can be mailed or attached as one
file.
"""

from __future__ import annotations

import base64
import html
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from rostro.evaluation.metrics import wilson_interval

log = logging.getLogger(__name__)

THUMBNAIL = 96
MISTAKES_SHOWN = 12


@dataclass(frozen=True)
class Outcome:
    """One answered face: what was answered, what the label says, and how sure the answer was.

    ``thumbnail`` is a callable that returns the face as a BGR array (or None when the image is
    gone), so that only the faces the page shows are ever loaded.
    """

    answer: str
    label: str
    score: float  # the confidence behind ``answer`` (the higher, the worse a wrong answer is)
    source: str = ""
    thumbnail: Callable[[], np.ndarray | None] | None = None


@dataclass(frozen=True)
class Section:
    """One attribute on one data set: its outcomes, the class order, and summary lines."""

    attribute: str
    dataset: str
    outcomes: tuple[Outcome, ...]
    classes: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def class_order(self) -> tuple[str, ...]:
        """The classes as given, then any label or answer not among them (sorted)."""
        seen = set(self.classes)
        extra = sorted(({o.label for o in self.outcomes} | {o.answer for o in self.outcomes}) - seen)
        return tuple(self.classes) + tuple(extra)

    def confusion(self) -> tuple[tuple[str, ...], tuple[str, ...], np.ndarray]:
        """Return (label classes, answer classes, counts[label, answer])."""
        order = self.class_order()
        labels = tuple(c for c in order if any(o.label == c for o in self.outcomes))
        answers = tuple(c for c in order if any(o.answer == c for o in self.outcomes)
                        or c in labels)
        counts = np.zeros((len(labels), len(answers)), dtype=int)
        for o in self.outcomes:
            counts[labels.index(o.label), answers.index(o.answer)] += 1
        return labels, answers, counts

    def mistakes(self, limit: int = MISTAKES_SHOWN) -> list[Outcome]:
        """The wrong answers given with the highest scores, worst first."""
        wrong = [o for o in self.outcomes if o.answer != o.label]
        return sorted(wrong, key=lambda o: -o.score)[:limit]


def accuracy_line(section: Section) -> str:
    """'accuracy a (95 % lo-hi), balanced b, n' of a section."""
    n = len(section.outcomes)
    if n == 0:
        return "no faces"
    right = sum(o.answer == o.label for o in section.outcomes)
    lo, hi = wilson_interval(right, n)
    labels = sorted({o.label for o in section.outcomes})
    recalls = [np.mean([o.answer == c for o in section.outcomes if o.label == c]) for c in labels]
    return (f"accuracy {right / n:.3f} (95 % {lo:.3f}-{hi:.3f}), balanced "
            f"{float(np.mean(recalls)):.3f}, n = {n}")


def _thumbnail_uri(outcome: Outcome) -> str | None:
    """The outcome's face as a data: URI (JPEG, THUMBNAIL px high), or None."""
    if outcome.thumbnail is None:
        return None
    try:
        face = outcome.thumbnail()
    except (OSError, ValueError, cv2.error) as error:  # a moved image must not sink the page
        log.warning("no thumbnail: %s", error)
        return None
    if face is None or face.size == 0:
        return None
    height, width = face.shape[:2]
    face = cv2.resize(face, (max(1, round(width * THUMBNAIL / height)), THUMBNAIL),
                      interpolation=cv2.INTER_AREA if height > THUMBNAIL else cv2.INTER_LINEAR)
    ok, data = cv2.imencode(".jpg", face, [cv2.IMWRITE_JPEG_QUALITY, 85])
    if not ok:
        return None
    return "data:image/jpeg;base64," + base64.b64encode(data.tobytes()).decode("ascii")


_CSS = """
body{font-family:system-ui,sans-serif;margin:2em;color:#222}
h2{margin-top:2em;border-bottom:1px solid #ccc}
table.confusion{border-collapse:collapse;margin:.5em 0}
table.confusion td,table.confusion th{border:1px solid #bbb;padding:.25em .6em;text-align:right}
table.confusion td.right{background:#dfd}
table.confusion td.wrong{background:#fdd}
table.confusion td.zero{color:#aaa;background:none}
.strip{display:flex;flex-wrap:wrap;gap:.6em}
figure{margin:0;width:128px;font-size:.8em}
figure img{height:96px;display:block}
.answer{color:#b00}.label{color:#060}
"""


def _confusion_html(section: Section) -> str:
    labels, answers, counts = section.confusion()
    head = "".join(f"<th>{html.escape(a)}</th>" for a in answers)
    body = []
    for i, label in enumerate(labels):
        cells = []
        for j, answer in enumerate(answers):
            kind = "zero" if counts[i, j] == 0 else "right" if label == answer else "wrong"
            cells.append(f'<td class="{kind}">{counts[i, j]}</td>')
        body.append(f"<tr><th>{html.escape(label)}</th>{''.join(cells)}</tr>")
    return ('<table class="confusion"><tr><th>label \\ answer</th>' + head + "</tr>"
            + "".join(body) + "</table>")


def _mistakes_html(section: Section) -> str:
    figures = []
    for o in section.mistakes():
        uri = _thumbnail_uri(o)
        image = f'<img src="{uri}" alt="face">' if uri else "<div>(no image)</div>"
        figures.append(
            f"<figure>{image}<figcaption>answer <span class=answer>{html.escape(o.answer)}"
            f"</span> ({o.score:.2f})<br>label <span class=label>{html.escape(o.label)}</span>"
            + (f"<br>{html.escape(o.source)}" if o.source else "") + "</figcaption></figure>")
    if not figures:
        return "<p>no mistakes</p>"
    return '<div class="strip">' + "".join(figures) + "</div>"


def render(sections: Iterable[Section], title: str = "Rostro attributes") -> str:
    """Return the whole page as one HTML string."""
    parts = [f"<!doctype html><html><head><meta charset=utf-8><title>{html.escape(title)}"
             f"</title><style>{_CSS}</style></head><body><h1>{html.escape(title)}</h1>"]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.attribute)} &mdash; "
                     f"{html.escape(section.dataset)}</h2>")
        parts.append(f"<p>{html.escape(accuracy_line(section))}</p>")
        parts += [f"<p>{html.escape(note)}</p>" for note in section.notes]
        parts.append(_confusion_html(section))
        parts.append("<h3>worst mistakes (most confident wrong answers)</h3>")
        parts.append(_mistakes_html(section))
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(folder: Path, sections: Sequence[Section], title: str = "Rostro attributes") -> Path:
    """Write ``folder/index.html`` (self-contained) and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "index.html"
    path.write_text(render(sections, title), encoding="utf-8")
    return path


def face_thumbnail(image: np.ndarray | None, box, margin: float = 0.25) -> np.ndarray | None:
    """The face ``box`` (left, top, width, height) of ``image`` with a margin, clipped to it."""
    if image is None:
        return None
    left, top, width, height = (float(v) for v in box)
    pad_x, pad_y = width * margin, height * margin
    h, w = image.shape[:2]
    x0, y0 = max(0, int(left - pad_x)), max(0, int(top - pad_y))
    x1, y1 = min(w, int(left + width + pad_x)), min(h, int(top + height + pad_y))
    if x1 <= x0 or y1 <= y0:
        return None
    return image[y0:y1, x0:x1]

"""The lab dev sets' answers as ``html_report.Section``s (``rostro eval attributes --report``).

Each section lists every answered dev face of one attribute: the answer, the label, the
confidence behind the answer, and a thumbnail loader (the face is cut again from the image
only if the page shows it). The answers are the ones the text report scores: heads trained on
the pool as shipped, heads trained on dev rows cross-validated.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from rostro.evaluation.attribute_accuracy import AGE_BINS, MASK_CLASSES, _glasses_rows
from rostro.evaluation.html_report import Outcome, Section, face_thumbnail
from rostro.vision.attributes.glasses import glasses_decision
from rostro.vision.attributes.heads import load_head
from rostro_training.headfit import (
    EMOTION_CLASSES,
    HAIR_CLASSES,
    RECIPES,
    FeatureTable,
    central_face,
    table_folder,
)

DATASET = "lab dev"


def _loader(analyzer, data: Path, table: str, row: dict[str, str]):
    """A thumbnail loader for one labelled row: its box, or the central detected face."""
    path = table_folder(table, data) / row["image"]

    def load() -> np.ndarray | None:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            return None
        if "x" in row:
            return face_thumbnail(image, [row[k] for k in ("x", "y", "w", "h")])
        image, detection = central_face(analyzer, image)
        if detection is None:
            return image
        box = detection.box
        return face_thumbnail(image, (box.left, box.top, box.width, box.height))

    return load


def _source(table: str, row: dict[str, str]) -> str:
    return f"{table}:{row['source']}" if row.get("source") else table


def _age_bin(age: float) -> str:
    """The AGE_BINS name of an age in years."""
    return AGE_BINS[int(np.searchsorted((3, 10, 20, 30, 40, 50, 60, 70), age, side="right"))]


def _demographic_sections(analyzer, data: Path, table: FeatureTable) -> list[Section]:
    age_head, gender_head = load_head("age"), load_head("gender")
    found = np.flatnonzero(table.found)
    age = np.clip(age_head(table.matrix(age_head.features)[found]), 0, 100)
    p_male = gender_head(table.matrix(gender_head.features)[found])
    ages, genders = [], []
    for i, years, male in zip(found, age, p_male):
        row = table.rows[i]
        load = _loader(analyzer, data, "age_gender", row)
        error = abs(float(years) - float(row["age"]))
        ages.append(Outcome(_age_bin(float(years)), row["age_bin"], error,
                            f"age {float(years):.0f}, label {row['age']}", load))
        answer = "male" if male >= 0.5 else "female"
        genders.append(Outcome(answer, row["gender"], float(max(male, 1 - male)), "", load))
    return [Section("age (bins; score = error in years)", DATASET, tuple(ages), AGE_BINS),
            Section("gender", DATASET, tuple(genders), ("female", "male"))]


def _emotion_section(analyzer, data: Path, table: FeatureTable) -> Section:
    head = load_head("emotion")
    found = np.flatnonzero(table.found)
    p = head(table.matrix(head.features)[found])
    outcomes = []
    for i, probabilities in zip(found, p):
        row = table.rows[i]
        if row["emotion"] not in EMOTION_CLASSES:
            continue
        k = int(probabilities.argmax())
        outcomes.append(Outcome(EMOTION_CLASSES[k], row["emotion"], float(probabilities[k]),
                                _source("emotion", row), _loader(analyzer, data, "emotion", row)))
    return Section("emotion", DATASET, tuple(outcomes), EMOTION_CLASSES)


def _head_section(analyzer, data: Path, name: str, head_data, outputs: np.ndarray) -> Section:
    recipe = RECIPES[name]
    classes = HAIR_CLASSES if name == "hair_color" else recipe.classes
    dev = [key for key, is_dev in zip(head_data.rows, head_data.is_dev) if is_dev]
    y = head_data.y[head_data.is_dev]
    outcomes = []
    for (table, row), label, out in zip(dev, y, outputs):
        if recipe.link == "softmax":
            k = int(np.argmax(out))
            answer, score = classes[k], float(out[k])
        else:
            k = int(out >= 0.5)
            answer, score = classes[k], float(out if k else 1 - out)
        outcomes.append(Outcome(answer, classes[int(label)], score, _source(table, row),
                                _loader(analyzer, data, table, row)))
    return Section(f"{name} (cross-validated)", DATASET, tuple(outcomes), tuple(classes))


def _glasses_section(analyzer, data: Path, tables: dict[str, FeatureTable], kept: dict) -> Section:
    outcomes = []
    for table, row, truth, sun, eye in _glasses_rows(tables, kept):
        answer = glasses_decision(sun, eye)
        score = sun if answer == "sunglasses" else (1 - sun) * (eye if answer == "reading"
                                                                else 1 - eye)
        outcomes.append(Outcome(answer, truth, float(score),
                                f"{_source(table, row)} sun {sun:.2f} eye {eye:.2f}",
                                _loader(analyzer, data, table, row)))
    return Section("glasses (served three-way answer, cross-validated heads)", DATASET,
                   tuple(outcomes), ("none", "reading", "sunglasses"))


def _mask_section(analyzer, data: Path, kept: dict) -> Section | None:
    if "mask_answers" not in kept:
        return None
    rows, truth, answer, p_mask = kept["mask_answers"]
    outcomes = tuple(
        Outcome(MASK_CLASSES[a], MASK_CLASSES[t], float(p if a in (1, 2) else 1 - p),
                _source(table, row), _loader(analyzer, data, table, row))
        for (table, row), t, a, p in zip(rows, truth, answer, p_mask))
    return Section("mask (cross-validated by image)", DATASET, outcomes, MASK_CLASSES)


def wild_glasses_section(data: Path, analyzer, table: FeatureTable, split: str) -> Section:
    """The served glasses answer of the shipped heads on a wild split's faces (laid out by
    rostro_training/wild_glasses.py; the heads never trained on val or test)."""
    sun_head, eye_head = load_head("sunglasses"), load_head("eyeglasses")
    found = np.array([i for i in np.flatnonzero(table.found)
                      if table.rows[i]["glasses"] in ("none", "eyeglasses", "sunglasses")], dtype=int)
    p_sun = sun_head(table.matrix(sun_head.features)[found])
    p_eye = eye_head(table.matrix(eye_head.features)[found])
    names = {"none": "none", "reading": "eyeglasses", "sunglasses": "sunglasses"}
    outcomes = []
    for i, sun, eye in zip(found, p_sun, p_eye):
        row = table.rows[i]
        answer = names[glasses_decision(float(sun), float(eye))]
        score = sun if answer == "sunglasses" else (1 - sun) * (eye if answer == "eyeglasses"
                                                                else 1 - eye)
        outcomes.append(Outcome(answer, row["glasses"], float(score),
                                f"{row['face_id']} {row['source']} sun {sun:.2f} eye {eye:.2f}",
                                _loader(analyzer, data, f"wild_{split}", row)))
    return Section("glasses (served answer, shipped heads)", f"wild {split}", tuple(outcomes),
                   ("none", "eyeglasses", "sunglasses"))


def lab_sections(data: Path, analyzer, tables: dict[str, FeatureTable], kept: dict) -> list[Section]:
    """Every attribute of ``evaluate_attributes`` as a Section (the order of the text report),
    and the glasses of the wild val faces when they are laid out on this machine."""
    sections = _demographic_sections(analyzer, data, tables["age_gender"])
    sections.append(_emotion_section(analyzer, data, tables["emotion"]))
    if "sunglasses" in kept and "eyeglasses" in kept:
        sections.append(_glasses_section(analyzer, data, tables, kept))
    for name in RECIPES:
        if name in kept and name != "mask":
            head_data, outputs = kept[name]
            sections.append(_head_section(analyzer, data, name, head_data, outputs))
    mask = _mask_section(analyzer, data, kept)
    if mask is not None:
        sections.append(mask)
    if "wild_glasses_val" in tables:
        sections.append(wild_glasses_section(data, analyzer, tables["wild_glasses_val"], "val"))
    return sections

"""Accuracy measurement on labelled data in the ``../shared/eval`` layout (labels.csv, pairs.csv).

One module per task; each exposes ``evaluate_*`` (returns a plain dict report), a table
formatter, and ``add_command`` for ``rostro eval``, whose handler returns the text the command
line prints (this room does not print).
"""


def markdown_table(lines: list[tuple[str, ...]]) -> str:
    """Return ``lines`` (the header first, then the rows, all strings) as a Markdown table
    with padded columns."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
           for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def publish(report: dict, table: str, json_path: str | None) -> str:
    """Write the report as JSON to ``json_path`` when given; return the text ``rostro eval``
    prints: the table, and where the JSON went."""
    import json
    from pathlib import Path

    if not json_path:
        return table
    Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return f"{table}\nreport written to {json_path}"

"""Accuracy measurement on labelled data in the ``../shared/eval`` layout (labels.csv, pairs.csv).

One module per task; each exposes ``evaluate_*`` (returns a plain dict report), a table
formatter, and ``add_command`` for ``rostro eval``.
"""


def markdown_table(lines: list[tuple[str, ...]]) -> str:
    """Return ``lines`` (the header first, then the rows, all strings) as a Markdown table
    with padded columns."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = ["| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |"
           for line in lines]
    out.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def publish(report: dict, table: str, json_path: str | None) -> None:
    """Print a report's table and, when ``json_path`` is given, write the report there as JSON."""
    import json
    from pathlib import Path

    print(table)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"report written to {json_path}")

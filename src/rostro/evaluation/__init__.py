"""Accuracy measurement on labelled data in the ``../shared/eval`` layout (labels.csv, pairs.csv).

One module per task; each exposes ``evaluate_*`` (returns a plain dict report), a table
formatter, and ``add_command`` for ``rostro eval``.
"""


def publish(report: dict, table: str, json_path: str | None) -> None:
    """Print a report's table and, when ``json_path`` is given, write the report there as JSON."""
    import json
    from pathlib import Path

    print(table)
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
        print(f"report written to {json_path}")

"""Accuracy measurement on labelled data in the ``../shared/eval`` layout (labels.csv, pairs.csv).

One module per task; each exposes ``evaluate_*`` (returns a plain dict report), a table
formatter, and ``add_command`` for ``rostro eval``.
"""

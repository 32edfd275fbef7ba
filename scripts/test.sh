#!/usr/bin/env bash
# Install Rostro with its test dependencies, provision the models (once), run the whole suite.
# Tests that need ../shared/eval skip when it is absent. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
for hook in scripts/test-setup.d/*.sh; do
  [ -e "$hook" ] && bash "$hook"
done
.venv/bin/rostro models pull --all  # the converter tests also check reference-only models
# Lint and types first: seconds, and a finding fails the run (docs/development.md).
.venv/bin/ruff check .
.venv/bin/mypy
# BLAS/OpenMP threads: one per process, set by rostro.threads (tests/conftest.py in every
# worker, the CLI and each server worker), so no OPENBLAS_NUM_THREADS export is needed here.
# Two worker processes (pytest-xdist), whole modules each, so module-scoped servers start once:
# most tests wait on servers, browsers and PostgreSQL, and the longest module (head
# reproduction) runs beside the rest (tests/conftest.py, FIRST_MODULES). ROSTRO_TEST_WORKERS=0
# runs in one process (easier to debug).
exec .venv/bin/python -m pytest -n "${ROSTRO_TEST_WORKERS:-2}" --dist loadfile --durations=15 "$@"

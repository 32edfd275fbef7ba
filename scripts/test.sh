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
# One BLAS thread per process: tests run servers and models side by side on two cores, where
# extra BLAS threads only contend (a gallery search or a head fit gets many times slower).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1
# Two worker processes (pytest-xdist), whole modules each, so module-scoped servers start once:
# most tests wait on servers, browsers and PostgreSQL, and the longest module (head
# reproduction) runs beside the rest (tests/conftest.py, FIRST_MODULES). ROSTRO_TEST_WORKERS=0
# runs in one process (easier to debug).
exec .venv/bin/python -m pytest -n "${ROSTRO_TEST_WORKERS:-2}" --dist loadfile --durations=15 "$@"

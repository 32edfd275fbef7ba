#!/usr/bin/env bash
# Install Rostro with its test dependencies, provision the models (once), run the whole suite.
# Tests that need ../shared/eval skip when it is absent. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
for hook in scripts/test-setup.d/*.sh; do
  [ -e "$hook" ] && bash "$hook"
done
.venv/bin/rostro models pull
exec .venv/bin/python -m pytest "$@"

#!/usr/bin/env bash
# Install Rostro, provision its models (once) and start the Face API on http://127.0.0.1:5000.
# Extra arguments go to `rostro serve` (e.g. --port 8080, --allow-private-urls).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh ann  # ann: FAISS for galleries over 200,000 faces
.venv/bin/rostro models pull
exec .venv/bin/rostro serve "$@"

#!/usr/bin/env bash
# Debian's PostgreSQL server for the PostgreSQL storage tests (tests/postgres_server.py starts
# a throwaway cluster from /usr/lib/postgresql/*/bin; the service itself needs no local
# server). Installs it only when missing; needs root and apt; never fails the run: without
# it, those tests are skipped.
set -uo pipefail
if compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || command -v initdb >/dev/null 2>&1; then
  exit 0
fi
source "$(dirname "$0")/../lib/apt.sh"
apt_ready postgres.sh "the PostgreSQL tests" || exit 0
# The tests start their own cluster: tell postgresql-common not to create and start the
# system's "main" cluster on port 5432.
install_server() {
  $sudo apt-get update -qq &&
    $sudo apt-get install -y -qq postgresql-common >/dev/null &&
    $sudo sed -i 's/^#*\s*create_main_cluster\s*=.*/create_main_cluster = false/' \
      /etc/postgresql-common/createcluster.conf &&
    $sudo apt-get install -y -qq postgresql >/dev/null
}
if ! install_server; then
  echo "postgres.sh: installing postgresql failed; the PostgreSQL tests will be skipped" >&2
  exit 0
fi
ls -d /usr/lib/postgresql/*/bin
exit 0

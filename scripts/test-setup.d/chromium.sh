#!/usr/bin/env bash
# Debian's Chromium for the Studio's end-to-end tests (Playwright drives /usr/bin/chromium;
# `playwright install` is never run). Installs it only when missing; needs root and apt.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
source "$(dirname "$0")/../lib/apt.sh"
apt_ready chromium.sh "the Studio browser tests" || exit 0
$sudo apt-get update -qq
$sudo apt-get install -y -qq chromium >/dev/null
/usr/bin/chromium --version

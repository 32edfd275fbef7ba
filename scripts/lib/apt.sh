# Sourced by scripts/test-setup.d/*.sh: `apt_ready HOOK WHAT` checks that Debian packages can
# be installed (apt-get, and root or sudo); it sets $sudo and returns 0, or explains on stderr
# that WHAT will be skipped and returns 1. Hooks never fail the test run.
apt_ready() {
  local hook="$1" what="$2"
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "$hook: apt-get is not available; $what will be skipped" >&2
    return 1
  fi
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
      echo "$hook: not root and no sudo; $what will be skipped" >&2
      return 1
    fi
  fi
  export DEBIAN_FRONTEND=noninteractive
}

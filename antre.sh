#!/usr/bin/env bash
# Antre developer entry point.
#   ./antre.sh run    install what is missing, then run the whole system on its
#                     embedded defaults (demo MPP, SQLite in ./data, virtual printer)
#   ./antre.sh test   install what is missing, then run every test (what CI runs)
#   ./antre.sh setup  only install
set -euo pipefail
cd "$(dirname "$0")"

VENV=.venv
PY="$VENV/bin/python"
DEBS=(espeak-ng libespeak-ng1 chromium redis-server shellcheck sox alsa-utils libusb-1.0-0 systemd)
STAMP="$VENV/.antre-installed"

need_debs() {
  local missing=()
  for p in "${DEBS[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -eq 0 ]; then return 0; fi
  if [ "$(id -u)" -eq 0 ]; then
    echo "antre: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    echo "antre: installing Debian packages with sudo: ${missing[*]}"
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "antre: these Debian packages are missing: ${missing[*]}" >&2
    echo "antre: run as root, or install them yourself:" >&2
    echo "    sudo apt-get install ${missing[*]}" >&2
    return 1
  fi
}

setup() {
  local what=${1:-run}
  if [ "$what" = test ]; then
    need_debs
  else
    # Running needs only espeak-ng for speech; everything else has a fallback.
    DEBS=(espeak-ng libespeak-ng1) need_debs || echo "antre: continuing without speech packages" >&2
  fi
  if [ ! -x "$PY" ]; then
    python3 -m venv "$VENV"
  fi
  local req=requirements.txt
  [ "$what" = test ] && req=requirements-dev.txt
  local sum
  sum=$(cat requirements.txt requirements-dev.txt package-lock.json | sha256sum | cut -c1-16)
  if [ ! -f "$STAMP.$what" ] || [ "$(cat "$STAMP.$what")" != "$sum" ]; then
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$req"
    if "$VENV/bin/pip" show eventlet >/dev/null 2>&1; then
      echo "antre: eventlet is installed in $VENV; removing it (Antre runs in gevent mode)" >&2
      "$VENV/bin/pip" uninstall -y -q eventlet
    fi
    if command -v npm >/dev/null 2>&1; then
      if [ "$what" = test ]; then npm ci --no-audit --no-fund --silent; else npm ci --omit=dev --no-audit --no-fund --silent; fi
    else
      echo "antre: npm is missing: browser pages need node_modules (apt-get install npm)" >&2
      return 1
    fi
    echo "$sum" > "$STAMP.$what"
  fi
}

cmd=${1:-help}
shift || true
case "$cmd" in
  setup)
    setup test ;;
  run)
    setup run
    exec "$PY" server.py serve --data-dir "${ANTRE_DATA_DIR:-data}" --demo "$@" ;;
  test)
    setup test
    "$VENV/bin/ruff" check .
    exec "$PY" -m pytest "$@" ;;
  *)
    echo "usage: ./antre.sh run|test|setup"; exit 2 ;;
esac

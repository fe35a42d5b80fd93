#!/usr/bin/env bash
# Upgrades an installed Antre from this source tree: backs up the database first,
# keeps the data and every setting, reinstalls the application, restarts it.
# The same as `install.sh --upgrade`; takes the same options (--dry-run, --root).
#
#   cd antre && git pull && sudo ./deploy/raspberrypi/upgrade.sh
set -euo pipefail
exec "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/install.sh" --upgrade "$@"

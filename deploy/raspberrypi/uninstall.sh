#!/usr/bin/env bash
# Removes what install.sh installed. Keeps the data (database, backups), the
# settings (/etc/antre: antre.env and the install record; the boot partition's
# antre.conf) and the antre user, so that a later install carries on where this
# one stopped; --purge removes them too.
#
#   sudo ./uninstall.sh [--purge] [--dry-run] [--root DIR]
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
LOG_TAG=antre-uninstall
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: uninstall.sh [--purge] [--dry-run] [--root DIR] [--prefix DIR] [--data-dir DIR]

  --purge      also delete the database and backups, the settings, the boot
               partition's antre.conf and the antre user
  --dry-run    print every step and change nothing
  --root DIR   act on files under DIR instead of / (commands are printed, not run)
  --prefix, --data-dir
               where Antre was installed, when /etc/antre/install.conf is gone
EOF
}

PURGE=0 PREFIX="" DATA_DIR=""
while [ $# -gt 0 ]; do
  case "$1" in
    --purge) PURGE=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --root) [ $# -ge 2 ] || die "--root needs a value"; ROOT=$2; shift 2 ;;
    --prefix) [ $# -ge 2 ] || die "--prefix needs a value"; PREFIX=$2; shift 2 ;;
    --data-dir) [ $# -ge 2 ] || die "--data-dir needs a value"; DATA_DIR=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $1" ;;
  esac
done
if [ -n "$ROOT" ]; then
  ROOT=$(readlink -m "$ROOT")
  [ "$ROOT" != / ] || ROOT=""
fi
if [ "$DRY_RUN" = 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
  die "run as root (sudo $0 $*), or try --dry-run"
fi

INSTALL_CONF=/etc/antre/install.conf
recorded() { kv_get "$(tpath "$INSTALL_CONF")" "$1"; }
ROLE=$(recorded ROLE)
PREFIX=${PREFIX:-$(recorded PREFIX)}
PREFIX=${PREFIX:-/opt/antre}
DATA_DIR=${DATA_DIR:-$(recorded DATA_DIR)}
DATA_DIR=${DATA_DIR:-/var/lib/antre}
BACKUP_DIR=$(recorded BACKUP_DIR)
BACKUP_DIR=${BACKUP_DIR:-$DATA_DIR/backups}
SERVICE_USER=$(recorded SERVICE_USER)
SERVICE_USER=${SERVICE_USER:-antre}
DESKTOP_USER=$(recorded DESKTOP_USER)
DESKTOP_HOME=$(recorded DESKTOP_HOME)
BOOT_CONF=$(recorded BOOT_CONF)
if [ -z "$BOOT_CONF" ]; then
  for f in /boot/firmware/antre.conf /boot/antre.conf; do
    if [ -f "$(tpath "$f")" ] && grep -q 'Antre kiosk / display settings' "$(tpath "$f")"; then
      BOOT_CONF=$f
      break
    fi
  done
fi
check_plain_path --prefix "$PREFIX"
check_plain_path --data-dir "$DATA_DIR"
check_plain_path "BACKUP_DIR" "$BACKUP_DIR"
case "$PREFIX" in / | /usr | /usr/local | /opt | /etc | /var | /var/lib | /home) die "refusing to remove --prefix $PREFIX" ;; esac
case "$DATA_DIR" in / | /usr | /opt | /etc | /var | /var/lib | /home) die "refusing to remove --data-dir $DATA_DIR" ;; esac
log "Antre uninstall (role ${ROLE:-unknown}${ROOT:+, root $ROOT}), $([ "$PURGE" = 1 ] && echo "removing the data too" || echo "keeping the data")"

UNITS=(antre.service antre-backup.timer antre-backup.service antre-print-agent.service)

step "Services"
present=()
for unit in "${UNITS[@]}"; do
  if [ -f "$(tpath "/etc/systemd/system/$unit")" ]; then present+=("$unit"); fi
done
if [ ${#present[@]} -gt 0 ]; then
  if [ -n "$ROOT" ] || [ "$DRY_RUN" = 1 ] || command -v systemctl >/dev/null; then
    sys_run systemctl disable --now "${present[@]}"
  fi
  for unit in "${present[@]}"; do remove_path "/etc/systemd/system/$unit"; done
  sys_run systemctl daemon-reload
fi
if [ -f "$(tpath /etc/udev/rules.d/60-antre-printers.rules)" ]; then
  remove_path /etc/udev/rules.d/60-antre-printers.rules
  sys_run udevadm control --reload-rules
fi
if [ -f "$(tpath /etc/asound.conf)" ] && grep -q "Written by Antre's install.sh" "$(tpath /etc/asound.conf)"; then
  remove_path /etc/asound.conf
fi
remove_path /usr/local/bin/antre

step "Kiosk / display browser"
if [ -n "$DESKTOP_HOME" ]; then
  cfg=$DESKTOP_HOME/.config
  real=$(tpath "$cfg/labwc/autostart")
  if [ -f "$real" ] && grep -q antre-browser "$real"; then
    content=$(grep -v -e antre-browser -e "Written by Antre's install.sh" -e "Screen layout from the Screen" -e "command -v kanshi" "$real" || true)
    if [ -z "$(tr -d '[:space:]' <<<"$content")" ]; then
      # Only our lines: remove the file, and the system autostart (desktop, panel) applies again.
      remove_path "$cfg/labwc/autostart"
    else
      put_file "$cfg/labwc/autostart" 0755 "labwc autostart without antre-browser" <<<"$content"
      sys_run chown "$DESKTOP_USER:" "$cfg/labwc/autostart"
    fi
  fi
  real=$(tpath "$cfg/wayfire.ini")
  if [ -f "$real" ] && grep -q '^antre *= ' "$real"; then
    content=$(grep -v '^antre *= ' "$real")
    put_file "$cfg/wayfire.ini" 0644 "wayfire.ini without the antre autostart entry" <<<"$content"
    sys_run chown "$DESKTOP_USER:" "$cfg/wayfire.ini"
  fi
  remove_path "$cfg/autostart/antre-browser.desktop"
  log "the browser stops at the next log-out or restart"
fi

step "Application"
remove_path "$PREFIX"

step "Data and settings"
if [ "$PURGE" = 1 ]; then
  remove_path "$DATA_DIR"
  remove_path "$BACKUP_DIR"
  remove_path /etc/antre
  if [ -n "$BOOT_CONF" ]; then remove_path "$BOOT_CONF"; fi
  if [ -n "$ROOT" ] || [ "$DRY_RUN" = 1 ] || id -u "$SERVICE_USER" >/dev/null 2>&1; then
    sys_run userdel "$SERVICE_USER"
  fi
  if [ -n "$ROOT" ] || [ "$DRY_RUN" = 1 ] || getent group "$SERVICE_USER" >/dev/null; then
    sys_run groupdel "$SERVICE_USER"
  fi
else
  for kept in "$DATA_DIR" /etc/antre/antre.env "$INSTALL_CONF" "$BOOT_CONF"; do
    if [ -n "$kept" ] && [ -e "$(tpath "$kept")" ]; then log "kept: $kept"; fi
  done
  if [ "$ROLE" = server ] || [ "$(recorded PRINT_AGENT)" = 1 ]; then log "kept: the $SERVICE_USER user"; fi
  log "remove everything with: uninstall.sh --purge"
fi

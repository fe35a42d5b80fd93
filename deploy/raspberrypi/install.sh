#!/usr/bin/env bash
# Antre installer for Raspberry Pi OS Bookworm (64-bit) and Debian/Ubuntu.
#
#   sudo ./install.sh --role server [--printer usb:0416:5011] [--demo]
#   sudo ./install.sh --role display --server-url http://192.168.1.10:8080 --token TOKEN [--zone A]
#   sudo ./install.sh --role kiosk   --server-url http://192.168.1.10:8080 --token TOKEN
#   sudo ./install.sh --upgrade      (same role and folders as before; backs up the database first)
#   ./install.sh --dry-run --role server     (prints every step, changes nothing)
#
# Safe to run again: files are only rewritten when their content changes, packages
# only installed when missing, settings the administrator edited are kept.
# See deploy/raspberrypi/README.md.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
SRC=$(cd "$SCRIPT_DIR/../.." && pwd)
LOG_TAG=antre-install
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"

usage() {
  cat <<'EOF'
Usage: install.sh --role server|kiosk|display [options]
       install.sh --upgrade [options]

Roles:
  server    the Antre server: systemd service, nightly backup, printer access
  kiosk     a touchscreen ticket kiosk: Chromium in kiosk mode on SERVER_URL/kiosk
  display   a waiting-room TV: Chromium in kiosk mode on SERVER_URL/display

Options:
  --server-url URL     kiosk/display: address of the server (http://192.168.1.10:8080)
  --token TOKEN        kiosk/display: device token (server: sudo antre token create ...)
  --zone NAME          display: waiting-room zone to show
  --desktop-user NAME  kiosk/display: user of the desktop session (default: the
                       sudo user, else the first user with uid 1000 or more)
  --data-dir DIR       server: data folder (default /var/lib/antre)
  --prefix DIR         where Antre is installed (default /opt/antre)
  --port N             server: port (default 8080)
  --printer URI        server: default ticket printer (usb:VID:PID, tcp://HOST:9100, ...);
                       kiosk: a printer plugged into the kiosk itself (runs the print agent)
  --message-queue URL  server: redis://... shared by several server processes
  --with-redis         server: also install redis-server
  --demo               server: seed the demo MPP into an empty database
  --timezone TZ        time zone of the MPP (default Asia/Jakarta)
  --backup-days N      server: keep nightly backups N days (default 14)
  --backup-dir DIR     server: backup folder (default DATA_DIR/backups)
  --backup-time HH:MM  server: time of the nightly backup (default 02:30)
  --audio-card CARD    server: ALSA card for speech (number or name from aplay -l)
  --skip-packages      do not install Debian packages (they are already there)
  --upgrade            reinstall the application, keep data and settings, back up
                       the database first, restart the service
  --dry-run            print every step (commands and files) and change nothing
  --root DIR           write every file under DIR instead of /; commands that change
                       the running system (apt-get, useradd, systemctl, ...) are
                       printed, not run
  -h, --help           this help
EOF
}

# ----------------------------------------------------------------------------- options

ROLE="" SERVER_URL="" TOKEN="" ZONE="" DESKTOP_USER=""
DATA_DIR="" PREFIX="" PORT="" PRINTER="" MESSAGE_QUEUE="" TIMEZONE=""
BACKUP_DAYS="" BACKUP_DIR="" BACKUP_TIME="" AUDIO_CARD=""
WITH_REDIS=0 DEMO="" SKIP_PACKAGES=0 UPGRADE=0 PRINT_AGENT=""
declare -A GIVEN=()
SERVICE_USER=antre
ORIGINAL_ARGS=("$@")

need_value() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then die "$1 needs a value"; fi
}

while [ $# -gt 0 ]; do
  opt=$1
  case "$opt" in
    --*=*) set -- "${opt%%=*}" "${opt#*=}" "${@:2}"; continue ;;
  esac
  case "$opt" in
    --role) need_value "$@"; ROLE=$2; GIVEN[role]=1; shift 2 ;;
    --server-url) need_value "$@"; SERVER_URL=$2; GIVEN[server_url]=1; shift 2 ;;
    --token) need_value "$@"; TOKEN=$2; GIVEN[token]=1; shift 2 ;;
    --zone) need_value "$@"; ZONE=$2; GIVEN[zone]=1; shift 2 ;;
    --desktop-user) need_value "$@"; DESKTOP_USER=$2; shift 2 ;;
    --data-dir) need_value "$@"; DATA_DIR=$2; shift 2 ;;
    --prefix) need_value "$@"; PREFIX=$2; shift 2 ;;
    --port) need_value "$@"; PORT=$2; GIVEN[port]=1; shift 2 ;;
    --printer) need_value "$@"; PRINTER=$2; GIVEN[printer]=1; shift 2 ;;
    --message-queue) need_value "$@"; MESSAGE_QUEUE=$2; GIVEN[message_queue]=1; shift 2 ;;
    --with-redis) WITH_REDIS=1; shift ;;
    --demo) DEMO=1; GIVEN[demo]=1; shift ;;
    --timezone) need_value "$@"; TIMEZONE=$2; GIVEN[timezone]=1; shift 2 ;;
    --backup-days) need_value "$@"; BACKUP_DAYS=$2; GIVEN[backup_days]=1; shift 2 ;;
    --backup-dir) need_value "$@"; BACKUP_DIR=$2; shift 2 ;;
    --backup-time) need_value "$@"; BACKUP_TIME=$2; shift 2 ;;
    --audio-card) need_value "$@"; AUDIO_CARD=$2; shift 2 ;;
    --skip-packages) SKIP_PACKAGES=1; shift ;;
    --upgrade) UPGRADE=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --root) need_value "$@"; ROOT=$2; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) usage >&2; die "unknown option: $opt" ;;
  esac
done

if [ -n "$ROOT" ]; then
  ROOT=$(readlink -m "$ROOT")
  [ "$ROOT" != / ] || ROOT=""
fi
INSTALL_CONF=/etc/antre/install.conf
ENV_FILE=/etc/antre/antre.env

# An upgrade (or a second run) keeps what the first install chose.
previous() { kv_get "$(tpath "$INSTALL_CONF")" "$1"; }
if [ -f "$(tpath "$INSTALL_CONF")" ]; then
  if [ -n "$ROLE" ] && [ -n "$(previous ROLE)" ] && [ "$ROLE" != "$(previous ROLE)" ]; then
    warn "this machine was installed as a $(previous ROLE); run uninstall.sh first to remove those parts"
  fi
  [ -n "$ROLE" ] || ROLE=$(previous ROLE)
  [ -n "$PREFIX" ] || PREFIX=$(previous PREFIX)
  [ -n "$DATA_DIR" ] || DATA_DIR=$(previous DATA_DIR)
  [ -n "$BACKUP_DIR" ] || BACKUP_DIR=$(previous BACKUP_DIR)
  [ -n "$BACKUP_TIME" ] || BACKUP_TIME=$(previous BACKUP_TIME)
  [ -n "$DESKTOP_USER" ] || DESKTOP_USER=$(previous DESKTOP_USER)
  [ -n "$AUDIO_CARD" ] || AUDIO_CARD=$(previous AUDIO_CARD)
  PRINT_AGENT=$(previous PRINT_AGENT)
  [ -n "$TIMEZONE" ] || TIMEZONE=$(previous TIMEZONE)
  [ "$WITH_REDIS" = 1 ] || WITH_REDIS=$(previous WITH_REDIS)
  [ -n "$WITH_REDIS" ] || WITH_REDIS=0
elif [ "$UPGRADE" = 1 ]; then
  die "--upgrade: $(tpath "$INSTALL_CONF") not found (nothing installed yet?); use --role"
fi

PREFIX=${PREFIX:-/opt/antre}
DATA_DIR=${DATA_DIR:-/var/lib/antre}
BACKUP_DIR=${BACKUP_DIR:-$DATA_DIR/backups}
BACKUP_TIME=${BACKUP_TIME:-02:30}
TIMEZONE=${TIMEZONE:-Asia/Jakarta}
PORT=${PORT:-8080}
BACKUP_DAYS=${BACKUP_DAYS:-14}
DEMO=${DEMO:-0}

case "$ROLE" in
  server | kiosk | display) ;;
  "") usage >&2; die "--role is required (server, kiosk or display)" ;;
  *) die "--role must be server, kiosk or display (got '$ROLE')" ;;
esac
check_plain_path --prefix "$PREFIX"
check_plain_path --data-dir "$DATA_DIR"
check_plain_path --backup-dir "$BACKUP_DIR"
if ! [[ $PORT =~ ^[0-9]{1,5}$ ]] || [ "$PORT" -lt 1 ] || [ "$PORT" -gt 65535 ]; then
  die "--port must be 1-65535"
fi
if ! [[ $BACKUP_DAYS =~ ^[0-9]{1,5}$ ]] || [ "$BACKUP_DAYS" -lt 1 ]; then
  die "--backup-days must be a whole number of days, at least 1"
fi
[[ $BACKUP_TIME =~ ^([01][0-9]|2[0-3]):[0-5][0-9]$ ]] || die "--backup-time must be HH:MM"
[[ $TIMEZONE =~ ^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$ ]] || die "--timezone: not a time zone name: '$TIMEZONE'"
if [ -d /usr/share/zoneinfo ] && [ ! -f "/usr/share/zoneinfo/$TIMEZONE" ]; then
  die "--timezone: unknown time zone '$TIMEZONE' (e.g. Asia/Jakarta, Asia/Makassar, Asia/Jayapura)"
fi
if [ -n "$SERVER_URL" ]; then
  [[ $SERVER_URL =~ ^https?://[^[:space:]/]+(/[^[:space:]]*)?$ ]] || die "--server-url must look like http://192.168.1.10:8080"
  SERVER_URL=${SERVER_URL%/}
fi
for pair in "token:$TOKEN" "zone:$ZONE" "printer:$PRINTER" "message-queue:$MESSAGE_QUEUE" \
    "audio-card:$AUDIO_CARD" "desktop-user:$DESKTOP_USER"; do
  case "${pair#*:}" in
    *[[:space:]\"\'\\\`\$]*) die "--${pair%%:*} must not contain spaces, quotes, backslashes, \` or \$" ;;
  esac
done
if [ "$ROLE" = server ] && [ -n "${GIVEN[token]:-}${GIVEN[server_url]:-}${GIVEN[zone]:-}" ]; then
  die "--server-url, --token and --zone are for the kiosk and display roles"
fi
if [ "$ROLE" = display ] && [ -n "${GIVEN[printer]:-}" ]; then
  die "--printer is for the server and kiosk roles"
fi
# A kiosk with its own printer runs the print agent.
if [ "$ROLE" = kiosk ] && { [ -n "${GIVEN[printer]:-}" ] || [ "${PRINT_AGENT:-0}" = 1 ]; }; then
  PRINT_AGENT=1
else
  PRINT_AGENT=0
fi

if [ "$DRY_RUN" = 0 ] && [ -z "$ROOT" ] && [ "$(id -u)" != 0 ]; then
  die "run as root (sudo $0 ${ORIGINAL_ARGS[*]}), or try --dry-run"
fi
if [ -n "$ROOT" ] && [ "$DRY_RUN" = 0 ] && [[ $(tpath "$PREFIX")/ == "$SRC"/* ]]; then
  die "--root: the install folder must not be inside the source tree $SRC"
fi

# Values of the @NAME@ placeholders of the templates.
TPL=(
  [PREFIX]="$PREFIX"
  [DATA_DIR]="$DATA_DIR"
  [BACKUP_DIR]="$BACKUP_DIR"
  [BACKUP_DAYS]="$BACKUP_DAYS"
  [BACKUP_TIME]="$BACKUP_TIME"
  [TIMEZONE]="$TIMEZONE"
  [USER]="$SERVICE_USER"
  [GROUP]="$SERVICE_USER"
  [PORT]="$PORT"
  [PRINTER]="$PRINTER"
  [MESSAGE_QUEUE]="$MESSAGE_QUEUE"
  [DEMO]="$DEMO"
  [ROLE]="$ROLE"
  [SERVER_URL]="$SERVER_URL"
  [TOKEN]="$TOKEN"
  [ZONE]="$ZONE"
)

# -------------------------------------------------------------------------- packages

package_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_packages() {
  local missing=() p
  if [ "$SKIP_PACKAGES" = 1 ]; then
    log "skipped (--skip-packages): $*"
    return 0
  fi
  if [ -n "$ROOT" ] || ! command -v dpkg-query >/dev/null; then
    missing=("$@")
  else
    for p in "$@"; do
      if ! package_installed "$p"; then missing+=("$p"); fi
    done
  fi
  if [ ${#missing[@]} -eq 0 ]; then
    log "Debian packages already installed: $*"
    return 0
  fi
  if [ "$DRY_RUN" = 0 ] && [ -z "$ROOT" ] && ! command -v apt-get >/dev/null; then
    die "apt-get not found: this installer is for Raspberry Pi OS, Debian and Ubuntu. Install by hand: ${missing[*]}"
  fi
  sys_run apt-get update
  sys_run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
}

# The Chromium package: chromium-browser on Raspberry Pi OS and Ubuntu, chromium on Debian.
chromium_package() {
  if [ -z "$ROOT" ] && command -v apt-cache >/dev/null \
      && apt-cache policy chromium-browser 2>/dev/null | grep -q 'Candidate: [0-9]'; then
    echo chromium-browser
  else
    echo chromium
  fi
}

set_timezone() {
  local current=""
  if [ "$UPGRADE" = 1 ] && [ -z "${GIVEN[timezone]:-}" ]; then return 0; fi
  if [ -z "$ROOT" ] && command -v timedatectl >/dev/null; then
    current=$(timedatectl show -p Timezone --value 2>/dev/null || true)
  fi
  if [ "$current" = "$TIMEZONE" ]; then
    log "system time zone is already $TIMEZONE"
  else
    sys_run timedatectl set-timezone "$TIMEZONE"
  fi
}

# ---------------------------------------------------------------------------- server

ensure_service_user() {
  local groups=() g
  if [ -z "$ROOT" ] && id -u "$SERVICE_USER" >/dev/null 2>&1; then
    log "system user $SERVICE_USER exists"
  else
    if [ -n "$ROOT" ] || ! getent group "$SERVICE_USER" >/dev/null; then
      sys_run groupadd --system "$SERVICE_USER"
    fi
    sys_run useradd --system --gid "$SERVICE_USER" --home-dir "$DATA_DIR" --no-create-home \
      --shell /usr/sbin/nologin --comment "Antre queue server" "$SERVICE_USER"
  fi
  # lp and plugdev: printers; dialout: serial printers; audio: speech.
  for g in lp audio dialout plugdev; do
    if [ -n "$ROOT" ] || getent group "$g" >/dev/null; then groups+=("$g"); fi
  done
  if [ ${#groups[@]} -gt 0 ]; then
    sys_run usermod --append --groups "$(IFS=,; echo "${groups[*]}")" "$SERVICE_USER"
  fi
}

# Copies the application (this source tree, without developer files) to
# PREFIX/app; only replaces it when something differs.
APP_CHANGED=0
tree_listing() { (cd "$1" && find . -path ./node_modules -prune -o -printf '%P %y %m %l\n' | LC_ALL=C sort); }
install_app() {
  local app=$PREFIX/app real stage
  real=$(tpath "$app")
  stage=$real.new
  if [ ! -f "$SRC/requirements.txt" ] || [ ! -f "$SRC/package-lock.json" ]; then
    die "$SRC does not look like the Antre source tree (no requirements.txt / package-lock.json)"
  fi
  if [ ! -f "$SRC/server.py" ]; then warn "$SRC/server.py is missing: the copied application is incomplete"; fi
  if [ "$DRY_RUN" = 1 ]; then
    log "would copy: $SRC -> $app (without .git, .venv, node_modules, data, tests, caches)"
    return 0
  fi
  rm -rf "$stage"
  mkdir -p "$stage"
  tar -C "$SRC" \
    --exclude=./.git --exclude=./.venv --exclude=./node_modules --exclude=./data \
    --exclude=./tests --exclude=./bench --exclude=./.ci \
    --exclude=__pycache__ --exclude='*.pyc' --exclude=./.pytest_cache \
    --exclude=./.ruff_cache --exclude=./.hypothesis \
    -cf - . | tar -C "$stage" --no-same-owner -xf -
  chmod -R u+rwX,go+rX,go-w "$stage"
  if [ -d "$real" ] && diff -r -q --no-dereference -x node_modules "$real" "$stage" >/dev/null 2>&1 \
      && [ "$(tree_listing "$real")" = "$(tree_listing "$stage")" ]; then
    rm -rf "$stage"
    log "unchanged: $app"
    return 0
  fi
  if [ -d "$real/node_modules" ]; then mv "$real/node_modules" "$stage/node_modules"; fi
  if [ -d "$real" ]; then
    rm -rf "$real.old"
    mv "$real" "$real.old"
  fi
  mv "$stage" "$real"
  rm -rf "$real.old"
  APP_CHANGED=1
  log "copied: $SRC -> $app"
}

sha_of() { sha256sum "$1" | cut -c1-64; }

install_venv() {
  local venv=$PREFIX/venv req=$SRC/requirements.txt stamp sum
  stamp=$(tpath "$venv/.antre-requirements.sha256")
  sum=$(sha_of "$req")
  if [ ! -x "$(tpath "$venv/bin/python")" ]; then
    sys_run python3 -m venv "$venv"
  fi
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    log "Python packages up to date in $venv"
    return 0
  fi
  sys_run "$venv/bin/pip" install --disable-pip-version-check --no-input -r "$PREFIX/app/requirements.txt"
  # Flask-SocketIO silently prefers eventlet when it is installed; Antre runs on gevent.
  sys_run "$venv/bin/pip" uninstall --yes --quiet eventlet
  if [ "$DRY_RUN" = 0 ] && [ -z "$ROOT" ]; then echo "$sum" >"$stamp"; fi
}

install_node_modules() {
  local app=$PREFIX/app stamp sum
  stamp=$(tpath "$app/node_modules/.antre-lock.sha256")
  sum=$(sha_of "$SRC/package-lock.json")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ]; then
    log "browser packages up to date in $app/node_modules"
    return 0
  fi
  sys_run env -C "$app" npm ci --omit=dev --no-audit --no-fund
  if [ "$DRY_RUN" = 0 ] && [ -z "$ROOT" ]; then echo "$sum" >"$stamp"; fi
}

backup_before_upgrade() {
  local db=$DATA_DIR/antre.db script=$SCRIPT_DIR/bin/antre_backup.py
  if [ ! -f "$(tpath "$db")" ]; then
    log "no database at $db yet: nothing to back up"
    return 0
  fi
  if [ "$DRY_RUN" = 1 ]; then
    log "would run: $(quote_cmd python3 "$script" --data-dir "$DATA_DIR" --backup-dir "$BACKUP_DIR" --tag pre-upgrade) (as $SERVICE_USER)"
    return 0
  fi
  if [ -n "$ROOT" ]; then
    fs_run python3 "$script" --data-dir "$(tpath "$DATA_DIR")" --backup-dir "$(tpath "$BACKUP_DIR")" \
      --keep-days "$BACKUP_DAYS" --tag pre-upgrade || die "backup failed: nothing was changed"
  else
    fs_run setpriv --reuid="$SERVICE_USER" --regid="$SERVICE_USER" --init-groups -- \
      python3 "$script" --data-dir "$DATA_DIR" --backup-dir "$BACKUP_DIR" \
      --keep-days "$BACKUP_DAYS" --tag pre-upgrade || die "backup failed: nothing was changed"
  fi
}

write_env_file() {
  local real content key value
  real=$(tpath "$ENV_FILE")
  if [ ! -f "$real" ]; then
    content=$(render "$SCRIPT_DIR/conf/antre.env.in")
    put_file "$ENV_FILE" 0640 conf/antre.env.in <<<"$content"
  else
    # Keep the administrator's edits; set only what was given on this command line.
    content=$(cat "$real")
    for key in port printer message_queue demo timezone backup_days; do
      [ -n "${GIVEN[$key]:-}" ] || continue
      case "$key" in
        port) value=$PORT ;;
        printer) value=$PRINTER ;;
        message_queue) value=$MESSAGE_QUEUE ;;
        demo) value=$DEMO ;;
        timezone) value=$TIMEZONE ;;
        backup_days) value=$BACKUP_DAYS ;;
      esac
      content=$(kv_set /dev/stdin "ANTRE_${key^^}" "$value" <<<"$content")
    done
    put_file "$ENV_FILE" 0640 "$ENV_FILE + command-line options" <<<"$content"
  fi
  sys_run chown "root:$SERVICE_USER" "$ENV_FILE"
}

install_server() {
  local pkgs units=() content changed_before
  step "Debian packages"
  pkgs=(python3 python3-venv python3-pip sqlite3 espeak-ng libespeak-ng1 alsa-utils
    libusb-1.0-0 curl ca-certificates util-linux)
  # npm from Debian, unless Node.js came from elsewhere (NodeSource's nodejs
  # brings its own npm and conflicts with Debian's).
  if [ -n "$ROOT" ] || ! command -v npm >/dev/null; then pkgs+=(npm); fi
  if [ "$WITH_REDIS" = 1 ]; then pkgs+=(redis-server); fi
  install_packages "${pkgs[@]}"

  if [ "$DRY_RUN" = 0 ] && [ -z "$ROOT" ] \
      && ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    die "Antre needs Python 3.11 or newer (Raspberry Pi OS Bookworm, Debian 12, Ubuntu 24.04)"
  fi

  step "System user $SERVICE_USER"
  ensure_service_user

  step "Folders"
  ensure_dir "$PREFIX" 0755
  ensure_dir "$PREFIX/bin" 0755
  ensure_dir "$DATA_DIR" 0750 "$SERVICE_USER:$SERVICE_USER"
  ensure_dir "$BACKUP_DIR" 0750 "$SERVICE_USER:$SERVICE_USER"
  ensure_dir /etc/antre 0755
  # Files someone made as root in the data folder would stop the service.
  sys_run chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"

  if [ "$UPGRADE" = 1 ]; then
    step "Backup of the database before the upgrade"
    backup_before_upgrade
  fi

  step "Application in $PREFIX/app"
  install_app
  step "Python virtual environment in $PREFIX/venv"
  install_venv
  # The service cannot write to $PREFIX (ProtectSystem=strict): compile now.
  sys_run "$PREFIX/venv/bin/python" -m compileall -q "$PREFIX/app"
  step "Browser packages (npm ci --omit=dev)"
  install_node_modules

  step "Helper programs"
  put_file "$PREFIX/bin/antre-server" 0755 bin/antre-server <"$SCRIPT_DIR/bin/antre-server"
  put_file "$PREFIX/bin/antre" 0755 bin/antre <"$SCRIPT_DIR/bin/antre"
  put_file "$PREFIX/bin/antre-backup" 0755 bin/antre_backup.py <"$SCRIPT_DIR/bin/antre_backup.py"
  ensure_symlink "$PREFIX/bin/antre" /usr/local/bin/antre

  step "Settings"
  write_env_file

  step "systemd units and udev rule"
  changed_before=${#CHANGED_FILES[@]}
  content=$(render "$SCRIPT_DIR/systemd/antre.service.in")
  put_file /etc/systemd/system/antre.service 0644 systemd/antre.service.in <<<"$content"
  content=$(render "$SCRIPT_DIR/systemd/antre-backup.service.in")
  put_file /etc/systemd/system/antre-backup.service 0644 systemd/antre-backup.service.in <<<"$content"
  content=$(render "$SCRIPT_DIR/systemd/antre-backup.timer.in")
  put_file /etc/systemd/system/antre-backup.timer 0644 systemd/antre-backup.timer.in <<<"$content"
  content=$(render "$SCRIPT_DIR/udev/60-antre-printers.rules.in")
  put_file /etc/udev/rules.d/60-antre-printers.rules 0644 udev/60-antre-printers.rules.in <<<"$content"
  if [ -n "$AUDIO_CARD" ]; then
    put_file /etc/asound.conf 0644 "--audio-card $AUDIO_CARD" <<EOF
# Written by Antre's install.sh (--audio-card $AUDIO_CARD): default sound output.
defaults.pcm.card $AUDIO_CARD
defaults.ctl.card $AUDIO_CARD
EOF
  fi
  units=(antre.service antre-backup.timer)

  step "Time zone"
  set_timezone

  step "Start"
  sys_run systemctl daemon-reload
  sys_run udevadm control --reload-rules
  sys_run udevadm trigger --subsystem-match=usb --action=change
  sys_run systemctl enable "${units[@]}"
  if [ "$UPGRADE" = 1 ] || [ "$APP_CHANGED" = 1 ] || [ ${#CHANGED_FILES[@]} -gt "$changed_before" ]; then
    sys_run systemctl restart antre.service
  else
    sys_run systemctl start antre.service
  fi
  sys_run systemctl start antre-backup.timer
}

wait_for_server() {
  local i host
  if [ "$DRY_RUN" = 1 ] || [ -n "$ROOT" ]; then return 0; fi
  for ((i = 0; i < 60; i++)); do
    if curl -fsS --max-time 2 "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1; then
      host=$(hostname -I 2>/dev/null | awk '{print $1}')
      host=${host:-$(hostname)}
      log "Antre is running. Open from a browser on the same network:"
      log "  admin:   http://$host:$PORT/admin"
      log "  kiosk:   http://$host:$PORT/kiosk      display: http://$host:$PORT/display"
      log "  counter: http://$host:$PORT/counter"
      log "Check the machine with: sudo antre doctor"
      return 0
    fi
    sleep 1
  done
  warn "the server does not answer on port $PORT yet: see journalctl -u antre -e, and run sudo antre doctor"
}

# -------------------------------------------------------------------- kiosk / display

resolve_desktop_user() {
  local passwd
  passwd=$(tpath /etc/passwd)
  if [ -z "$DESKTOP_USER" ] && [ -n "${SUDO_USER:-}" ] && [ "$SUDO_USER" != root ]; then
    DESKTOP_USER=$SUDO_USER
  fi
  if [ -z "$DESKTOP_USER" ] && [ -f "$passwd" ]; then
    DESKTOP_USER=$(awk -F: '$3 >= 1000 && $3 < 60000 { print $1; exit }' "$passwd")
  fi
  [ -n "$DESKTOP_USER" ] || die "no desktop user found: use --desktop-user NAME (the user that logs in to the desktop)"
  DESKTOP_HOME=""
  if [ -f "$passwd" ]; then
    DESKTOP_HOME=$(awk -F: -v u="$DESKTOP_USER" '$1 == u { print $6 }' "$passwd")
  fi
  DESKTOP_HOME=${DESKTOP_HOME:-/home/$DESKTOP_USER}
  check_plain_path "home of $DESKTOP_USER" "$DESKTOP_HOME"
  log "desktop user: $DESKTOP_USER ($DESKTOP_HOME)"
}

# The boot partition: /boot/firmware on Bookworm, /boot before it (and on PCs).
boot_conf_path() {
  if [ -d "$(tpath /boot/firmware)" ] || [ ! -d "$(tpath /boot)" ]; then
    echo /boot/firmware/antre.conf
  else
    echo /boot/antre.conf
  fi
}

write_boot_conf() {
  local real content
  real=$(tpath "$BOOT_CONF")
  if [ ! -f "$real" ]; then
    content=$(render "$SCRIPT_DIR/conf/antre.conf.in")
    put_file "$BOOT_CONF" - conf/antre.conf.in <<<"$content"
    return 0
  fi
  content=$(tr -d '\r' <"$real")
  if [ -n "${GIVEN[role]:-}" ]; then content=$(kv_set /dev/stdin ROLE "$ROLE" <<<"$content"); fi
  if [ -n "${GIVEN[server_url]:-}" ]; then content=$(kv_set /dev/stdin SERVER_URL "$SERVER_URL" <<<"$content"); fi
  if [ -n "${GIVEN[token]:-}" ]; then content=$(kv_set /dev/stdin TOKEN "$TOKEN" <<<"$content"); fi
  if [ -n "${GIVEN[zone]:-}" ]; then content=$(kv_set /dev/stdin ZONE "$ZONE" <<<"$content"); fi
  if [ -n "${GIVEN[printer]:-}" ]; then content=$(kv_set /dev/stdin PRINTER "$PRINTER" <<<"$content"); fi
  if [ "$content" = "$(tr -d '\r' <"$real")" ]; then
    log "unchanged: $BOOT_CONF (kept as edited)"
  else
    put_file "$BOOT_CONF" - "$BOOT_CONF + command-line options" <<<"$content"
  fi
}

write_autostart() {
  local launcher=$PREFIX/bin/antre-browser cfg=$DESKTOP_HOME/.config content real template
  # labwc (Raspberry Pi OS default since late 2024). A user autostart file replaces
  # the system one, so the desktop panel does not start: right for a kiosk.
  real=$(tpath "$cfg/labwc/autostart")
  if [ -f "$real" ]; then
    content=$(grep -v 'antre-browser' "$real" || true)
    content+=$'\n'"$launcher &"
  else
    content=$(printf '%s\n' \
      "# Written by Antre's install.sh: this machine is an Antre $ROLE." \
      "# Screen layout from the Screen Configuration tool, when present:" \
      "command -v kanshi >/dev/null && kanshi &" \
      "$launcher &")
  fi
  put_file "$cfg/labwc/autostart" 0755 "labwc autostart + $launcher" <<<"$content"

  # wayfire (Raspberry Pi OS Bookworm before labwc): autostart entry, no blanking.
  real=$(tpath "$cfg/wayfire.ini")
  template=/dev/null
  if [ -f "$real" ]; then
    template=$real
  elif [ -f "$(tpath /etc/wayfire/template.ini)" ]; then
    template=$(tpath /etc/wayfire/template.ini)
  fi
  content=$(ini_set "$template" autostart antre "$launcher")
  content=$(ini_set /dev/stdin idle dpms_timeout -1 <<<"$content")
  content=$(ini_set /dev/stdin idle screensaver_timeout -1 <<<"$content")
  put_file "$cfg/wayfire.ini" 0644 "$cfg/wayfire.ini + [autostart] antre, [idle] off" <<<"$content"

  # Other desktops (GNOME, KDE, LXDE) start ~/.config/autostart entries. The
  # launcher keeps one copy per session, whichever way it was started.
  put_file "$cfg/autostart/antre-browser.desktop" 0644 "XDG autostart entry" <<EOF
[Desktop Entry]
Type=Application
Name=Antre $ROLE
Comment=Antre kiosk browser and watchdog
Exec=$launcher
X-GNOME-Autostart-enabled=true
NoDisplay=true
EOF
  sys_run chown "$DESKTOP_USER:" "$cfg" "$cfg/labwc" "$cfg/labwc/autostart" "$cfg/wayfire.ini" \
    "$cfg/autostart" "$cfg/autostart/antre-browser.desktop"
}

# The print agent (kiosk with its own printer): the application and its virtual
# environment like on the server, the antre user with printer access, and
# antre-print-agent.service, which reads the server, token and printer from the
# boot partition's antre.conf.
install_print_agent() {
  local content changed_before
  step "Print agent: packages"
  install_packages python3 python3-venv python3-pip libusb-1.0-0 util-linux
  if [ "$DRY_RUN" = 0 ] && [ -z "$ROOT" ] \
      && ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    die "the print agent needs Python 3.11 or newer (Raspberry Pi OS Bookworm)"
  fi
  step "Print agent: system user $SERVICE_USER"
  ensure_service_user
  ensure_dir "$PREFIX/bin" 0755
  ensure_dir "$DATA_DIR" 0750 "$SERVICE_USER:$SERVICE_USER"
  sys_run chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA_DIR"
  step "Print agent: application in $PREFIX/app"
  install_app
  install_venv
  sys_run "$PREFIX/venv/bin/python" -m compileall -q "$PREFIX/app"
  step "Print agent: service and udev rule"
  changed_before=${#CHANGED_FILES[@]}
  put_file "$PREFIX/bin/antre-print-agent" 0755 bin/antre-print-agent <"$SCRIPT_DIR/bin/antre-print-agent"
  TPL[BOOT_CONF]=$BOOT_CONF
  content=$(render "$SCRIPT_DIR/systemd/antre-print-agent.service.in")
  put_file /etc/systemd/system/antre-print-agent.service 0644 systemd/antre-print-agent.service.in <<<"$content"
  content=$(render "$SCRIPT_DIR/udev/60-antre-printers.rules.in")
  put_file /etc/udev/rules.d/60-antre-printers.rules 0644 udev/60-antre-printers.rules.in <<<"$content"
  sys_run systemctl daemon-reload
  sys_run udevadm control --reload-rules
  sys_run udevadm trigger --subsystem-match=usb --action=change
  sys_run systemctl enable antre-print-agent.service
  if [ "$UPGRADE" = 1 ] || [ "$APP_CHANGED" = 1 ] || [ ${#CHANGED_FILES[@]} -gt "$changed_before" ]; then
    sys_run systemctl restart antre-print-agent.service
  else
    sys_run systemctl start antre-print-agent.service
  fi
}

install_device() {
  local browser_pkg
  step "Debian packages"
  browser_pkg=$(chromium_package)
  if command -v chromium-browser >/dev/null || command -v chromium >/dev/null; then
    if [ -z "$ROOT" ]; then browser_pkg=""; fi
  fi
  install_packages ${browser_pkg:+"$browser_pkg"} curl python3 util-linux

  step "Desktop session"
  resolve_desktop_user

  step "Programs"
  ensure_dir "$PREFIX" 0755
  put_file "$PREFIX/bin/antre-browser" 0755 bin/antre-browser <"$SCRIPT_DIR/bin/antre-browser"
  put_file "$PREFIX/share/antre/status.html" 0644 share/status.html <"$SCRIPT_DIR/share/status.html"

  step "Device settings on the boot partition"
  BOOT_CONF=$(boot_conf_path)
  write_boot_conf
  if [ -z "$SERVER_URL" ] && [ -z "$(kv_get "$(tpath "$BOOT_CONF")" SERVER_URL)" ] && [ "$DRY_RUN" = 0 ]; then
    warn "no server address yet: set SERVER_URL in $BOOT_CONF (any PC can edit it)"
  fi

  step "Start Chromium with the desktop session"
  write_autostart

  if [ "$PRINT_AGENT" = 1 ]; then install_print_agent; fi

  step "Desktop autologin, screen blanking off"
  if [ -n "$ROOT" ] || [ "$DRY_RUN" = 1 ] || command -v raspi-config >/dev/null; then
    # B4: boot to the desktop, logged in automatically; blanking 1: off.
    sys_run raspi-config nonint do_boot_behaviour B4
    sys_run raspi-config nonint do_blanking 1
  else
    log "raspi-config not found: turn on automatic login to the desktop for $DESKTOP_USER" \
      "in your display manager (GDM: Settings > Users > Automatic Login)"
  fi

  step "Time zone"
  set_timezone
}

write_install_conf() {
  put_file "$INSTALL_CONF" 0644 "install.sh options" <<EOF
# Written by Antre's install.sh; read by install.sh --upgrade and uninstall.sh.
ROLE=$ROLE
PREFIX=$PREFIX
DATA_DIR=$DATA_DIR
BACKUP_DIR=$BACKUP_DIR
BACKUP_TIME=$BACKUP_TIME
SERVICE_USER=$SERVICE_USER
DESKTOP_USER=$DESKTOP_USER
DESKTOP_HOME=${DESKTOP_HOME:-}
BOOT_CONF=${BOOT_CONF:-}
TIMEZONE=$TIMEZONE
AUDIO_CARD=$AUDIO_CARD
WITH_REDIS=$WITH_REDIS
PRINT_AGENT=$PRINT_AGENT
EOF
}

# ------------------------------------------------------------------------------ main

mode="this machine"
if [ -n "$ROOT" ]; then mode="the root $ROOT"; fi
if [ "$DRY_RUN" = 1 ]; then mode="nothing (dry run; target: ${ROOT:-/})"; fi
action=install
if [ "$UPGRADE" = 1 ]; then action=upgrade; fi
log "Antre $action, role $ROLE, from $SRC, changing $mode"

if [ "$ROLE" = server ]; then
  install_server
else
  install_device
fi
step "Install record"
ensure_dir /etc/antre 0755
write_install_conf

if [ "$ROLE" = server ]; then
  wait_for_server
else
  log "Done. Restart the machine (sudo reboot) to start the $ROLE browser."
fi

# shellcheck shell=bash
# Helpers shared by install.sh and uninstall.sh. Sourced, never run.
#
# Three modes:
#   normal     changes the machine (needs root);
#   --dry-run  prints every command it would run and every file it would write,
#              and changes nothing at all;
#   --root DIR writes every file under DIR instead of /, and only prints the
#              commands that would change the running system (apt-get, useradd,
#              systemctl, udevadm, pip, npm, ...): for tests and for preparing an
#              image.

DRY_RUN=${DRY_RUN:-0}
ROOT=${ROOT:-}
LOG_TAG=${LOG_TAG:-antre}

log() { printf '%s: %s\n' "$LOG_TAG" "$*"; }
step() { printf '\n%s: ==> %s\n' "$LOG_TAG" "$*"; }
warn() { printf '%s: warning: %s\n' "$LOG_TAG" "$*" >&2; }
die() { printf '%s: error: %s\n' "$LOG_TAG" "$*" >&2; exit 1; }

# Shell-quoted command line, for the log.
quote_cmd() {
  local out="" arg
  for arg in "$@"; do
    if [[ -n $arg && $arg =~ ^[A-Za-z0-9_./:=@%+,-]+$ ]]; then
      out+=" $arg"
    else
      out+=" '${arg//\'/\'\\\'\'}'"
    fi
  done
  printf '%s' "${out# }"
}

# The path to touch for a path of the target system: /etc/x -> $ROOT/etc/x.
tpath() { printf '%s%s' "$ROOT" "$1"; }

# A command that changes the running system, not just files under the target root.
sys_run() {
  if [ "$DRY_RUN" = 1 ]; then log "would run: $(quote_cmd "$@")"; return 0; fi
  if [ -n "$ROOT" ]; then log "not run in --root mode: $(quote_cmd "$@")"; return 0; fi
  log "run: $(quote_cmd "$@")"
  "$@"
}

# A command that only changes files (its paths already carry $ROOT).
fs_run() {
  if [ "$DRY_RUN" = 1 ]; then log "would run: $(quote_cmd "$@")"; return 0; fi
  log "run: $(quote_cmd "$@")"
  "$@"
}

# ensure_dir PATH MODE [OWNER]  (PATH on the target system)
ensure_dir() {
  local path=$1 mode=$2 owner=${3:-} real
  real=$(tpath "$path")
  if [ "$DRY_RUN" = 1 ]; then
    log "would create directory: $path (mode $mode${owner:+, owner $owner})"
    return 0
  fi
  if [ ! -d "$real" ]; then
    log "create directory: $path"
    mkdir -p "$real"
  fi
  chmod "$mode" "$real"
  if [ -n "$owner" ]; then sys_run chown "$owner" "$path"; fi
}

CHANGED_FILES=()
# Placeholder values for render (TPL[NAME]=value).
declare -A TPL=()

# put_file PATH MODE ORIGIN < content
# Writes the content to PATH on the target system when it differs (atomically, by
# rename); ORIGIN says where the content comes from, for the log. MODE "-" leaves
# the mode alone (FAT boot partitions have none).
put_file() {
  local path=$1 mode=$2 origin=$3 real tmp
  real=$(tpath "$path")
  if [ "$DRY_RUN" = 1 ]; then
    cat >/dev/null
    if [ "$mode" = - ]; then
      log "would write: $path (from $origin)"
    else
      log "would write: $path (mode $mode, from $origin)"
    fi
    return 0
  fi
  mkdir -p "$(dirname "$real")"
  tmp=$(mktemp "$real.XXXXXX")
  cat >"$tmp"
  if [ "$mode" != - ]; then chmod "$mode" "$tmp"; else chmod 0644 "$tmp" 2>/dev/null || true; fi
  if [ -f "$real" ] && [ ! -L "$real" ] && cmp -s "$tmp" "$real" \
      && { [ "$mode" = - ] || [ "$(stat -c %a "$real")" = "$(stat -c %a "$tmp")" ]; }; then
    rm -f "$tmp"
    log "unchanged: $path"
    return 0
  fi
  mv -f "$tmp" "$real"
  CHANGED_FILES+=("$path")
  log "wrote: $path (from $origin)"
}

# remove_path PATH  (file, symlink or directory on the target system)
remove_path() {
  local path=$1 real
  real=$(tpath "$path")
  if [ ! -e "$real" ] && [ ! -L "$real" ]; then return 0; fi
  if [ "$DRY_RUN" = 1 ]; then log "would remove: $path"; return 0; fi
  rm -rf -- "$real"
  log "removed: $path"
}

# ensure_symlink TARGET LINK
ensure_symlink() {
  local target=$1 link=$2 real
  real=$(tpath "$link")
  if [ -L "$real" ] && [ "$(readlink "$real")" = "$target" ]; then
    log "unchanged: $link -> $target"
    return 0
  fi
  if [ "$DRY_RUN" = 1 ]; then log "would link: $link -> $target"; return 0; fi
  mkdir -p "$(dirname "$real")"
  ln -sfn "$target" "$real"
  log "linked: $link -> $target"
}

# kv_get FILE KEY: the value of KEY=VALUE in a small config file (CRLF, blanks,
# comments and quotes tolerated: the boot partition is edited from Windows too).
kv_get() {
  local file=$1 key=$2
  [ -f "$file" ] || return 0
  K=$key awk '
    { sub(/\r$/, "") }
    /^[[:space:]]*#/ { next }
    {
      line = $0
      sub(/^[[:space:]]*(export[[:space:]]+)?/, "", line)
      eq = index(line, "=")
      if (eq == 0) next
      k = substr(line, 1, eq - 1); sub(/[[:space:]]+$/, "", k)
      if (k != ENVIRON["K"]) next
      v = substr(line, eq + 1); sub(/^[[:space:]]+/, "", v); sub(/[[:space:]]+$/, "", v)
      if (v ~ /^".*"$/ || v ~ /^'\''.*'\''$/) v = substr(v, 2, length(v) - 2)
      val = v; found = 1
    }
    END { if (found) print val }
  ' "$file"
}

# kv_set FILE KEY VALUE: prints FILE with KEY set to VALUE (first KEY= line
# replaced, later ones dropped, appended when absent).
kv_set() {
  local file=$1 key=$2 value=$3
  K=$key V=$value awk '
    {
      line = $0; sub(/\r$/, "", line)
      probe = line; sub(/^[[:space:]]*(export[[:space:]]+)?/, "", probe)
      eq = index(probe, "=")
      k = (eq > 0 && probe !~ /^#/) ? substr(probe, 1, eq - 1) : ""
      sub(/[[:space:]]+$/, "", k)
      if (k == ENVIRON["K"]) {
        if (!done) { print ENVIRON["K"] "=" ENVIRON["V"]; done = 1 }
        next
      }
      print line
    }
    END { if (!done) print ENVIRON["K"] "=" ENVIRON["V"] }
  ' "$file"
}

# ini_set FILE SECTION KEY VALUE: prints the ini FILE with "KEY = VALUE" in
# [SECTION] (for wayfire.ini).
ini_set() {
  local file=$1
  S=$2 K=$3 V=$4 awk '
    function emit() { print ENVIRON["K"] " = " ENVIRON["V"]; done = 1 }
    {
      line = $0; sub(/\r$/, "", line)
      if (line ~ /^[[:space:]]*\[.*\][[:space:]]*$/) {
        if (insec && !done) { emit(); print "" }
        name = line; gsub(/^[[:space:]]*\[|\][[:space:]]*$/, "", name)
        insec = (name == ENVIRON["S"]); seen = seen || insec
        print line; next
      }
      if (insec) {
        probe = line; eq = index(probe, "=")
        k = eq > 0 ? substr(probe, 1, eq - 1) : ""
        gsub(/^[[:space:]]+|[[:space:]]+$/, "", k)
        if (k == ENVIRON["K"]) { if (!done) emit(); next }
      }
      print line
    }
    END {
      if (insec && !done) emit()
      if (!seen) { if (NR > 0) print ""; print "[" ENVIRON["S"] "]"; emit() }
    }
  ' "$file"
}

# render TEMPLATE: prints the template with @NAME@ placeholders replaced by the
# values of the associative array TPL (TPL[NAME]=value). Use as
# content=$(render FILE): a missing value then stops the script instead of
# writing a half-filled file.
render() {
  local template=$1 name value script="" out
  for name in "${!TPL[@]}"; do
    value=${TPL[$name]}
    value=${value//\\/\\\\}
    value=${value//|/\\|}
    value=${value//&/\\&}
    script+="s|@${name}@|${value}|g;"
  done
  out=$(sed -e "$script" "$template")
  if [[ $out =~ @[A-Z_]+@ ]]; then
    die "no value for ${BASH_REMATCH[0]} in $template"
  fi
  printf '%s\n' "$out"
}

# A path usable in systemd units and udev rules without quoting.
check_plain_path() {
  local what=$1 path=$2
  [[ $path =~ ^/[A-Za-z0-9._/+-]*$ ]] || die "$what must be an absolute path of letters, digits and ._/+- (got '$path')"
  [[ $path != *//* && $path != */ && $path != *..* ]] || [ "$path" = / ] || die "$what is not a clean path: '$path'"
}

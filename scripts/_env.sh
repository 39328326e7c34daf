# shellcheck shell=bash
# Shared by scripts/test, scripts/develop and scripts/hems: finds or builds a
# Python >= 3.14.2 environment with the project's pinned requirements and runs
# commands in it.  Sourced, not executed.
#
# Where the host's python3 is new enough, a venv is made with it.  Otherwise
# (Debian 12 ships 3.11) a Debian testing root with Python 3.14 is built once
# with debootstrap and commands run inside it through chroot, in a private
# mount namespace so no mount outlives the command.  Everything is cached
# under $HEMS_CACHE (default ~/.cache/hems), outside the work tree.
#
# HEMS_ROOT=DIR runs in that root instead (built there if it holds no Python
# 3.14), even where the host's python3 would do.  Commands run in the
# environment see HEMS_IN_ENV=1; hems_env_run then runs its command directly
# (e.g. scripts/hems called by a test).  HEMS_HOST_VIEW=1 (scripts/hems) shows
# the caller's files inside the root: see _in_root.

set -euo pipefail

HEMS_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HEMS_CACHE=${HEMS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hems}
HEMS_MIRROR=${HEMS_MIRROR:-http://deb.debian.org/debian}
HEMS_SUITE=forky
HEMS_REQUIREMENTS=("$HEMS_REPO/requirements_test.txt")
# Debian packages the tests need in the environment (browsers, servers), one
# per line; installed into the Python 3.14 root (or the host) when it changes.
HEMS_APT_PACKAGES="$HEMS_REPO/requirements_apt.txt"

_log() { printf '\033[1m[hems]\033[0m %s\n' "$*" >&2; }

_host_python_ok() {
  command -v python3 >/dev/null 2>&1 &&
    python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 14, 2) else 1)' 2>/dev/null
}

# True when commands run in a venv of the host's python3 (no root).
_use_host() { [ -z "${HEMS_ROOT:-}" ] && _host_python_ok; }

_root_dir() { echo "${HEMS_ROOT:-$HEMS_CACHE/root-$HEMS_SUITE}"; }

# Bump when the way the environment is built changes (forces a rebuild).
HEMS_ENV_VERSION=1

_requirements_hash() {
  { echo "$HEMS_ENV_VERSION"; cat "${HEMS_REQUIREMENTS[@]}"; } | sha256sum | cut -c1-16
}

# Pip settings of the host (certificate, timeouts, extra indexes) carried into
# the root, so pip inside behaves as it does outside.
_pip_env() {
  local var
  for var in $(compgen -e); do
    case "$var" in PIP_* | HTTP_PROXY | HTTPS_PROXY | NO_PROXY | http_proxy | https_proxy | no_proxy)
      printf '%s=%s\n' "$var" "${!var}" ;;
    esac
  done
}

_build_root() {
  local root=$1
  if ! command -v debootstrap >/dev/null 2>&1; then
    _log "installing debootstrap (apt)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  fi
  local script=/usr/share/debootstrap/scripts/sid
  _log "building a Debian $HEMS_SUITE root with Python 3.14 in $root (once, about a minute)"
  rm -rf "$root.tmp"
  debootstrap --variant=minbase --include=python3.14,python3.14-venv,ca-certificates \
    "$HEMS_SUITE" "$root.tmp" "$HEMS_MIRROR" "$script" >"$HEMS_CACHE/debootstrap.log" 2>&1 ||
    { tail -20 "$HEMS_CACHE/debootstrap.log" >&2; _log "debootstrap failed (log: $HEMS_CACHE/debootstrap.log)"; return 1; }
  mv "$root.tmp" "$root"
}

# Runs "$@" inside the root with the work tree's parent (the repo and ../shared)
# at the same path as outside, so paths mean the same in and out, and a private
# /tmp.  With HEMS_HOST_VIEW=1 (scripts/hems) the caller's files are visible
# instead: every top-level folder of the host except the root's own system
# folders (/bin /dev /etc /lib* /opt /proc /run /sbin /sys /usr) at its own
# path (so /home, /root, /tmp, /var, /mnt, /srv ... are the host's), the whole
# host at /run/host (HEMS_HOST_ROOT: the planner reads paths under the root's
# own folders from there) and the working directory kept.
_in_root() {
  local root=$1; shift
  local outer
  outer=$(dirname "$HEMS_REPO")
  # The script is an argument, not stdin: the command keeps the caller's stdin.
  unshare --mount --propagation private -- /bin/bash -c "$_HEMS_IN_ROOT_SH" in-root \
    "$root" "$outer" "$PWD" "${HEMS_HOST_VIEW:-}" "$@"
}

_HEMS_IN_ROOT_SH=$(
  cat <<'INNER'
set -euo pipefail
root=$1; outer=$2; cwd=$3; host_view=$4; shift 4
extra=()
if [ -n "$host_view" ]; then
  for dir in /*/; do
    dir=${dir%/}
    case $dir in
      /bin | /dev | /etc | /lib | /lib32 | /lib64 | /libx32 | /opt | /proc | /run | /sbin | /sys | /usr) ;;
      *) mkdir -p "$root$dir" && mount --rbind "$dir" "$root$dir" ;;
    esac
  done
  mkdir -p "$root/run/host"
  mount --rbind / "$root/run/host"
  extra+=(HEMS_HOST_ROOT=/run/host)
else
  mount -t tmpfs tmpfs "$root/tmp"
fi
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mkdir -p "$root$outer"
mount --rbind "$outer" "$root$outer"
if [ -n "$host_view" ] && ! [ "$cwd" -ef "$root$cwd" ]; then
  cwd=/run/host$cwd  # under one of the root's own folders
fi
for d in /opt/wheels /opt/pypi /opt/pypi-more; do
  if [ -d "$d" ]; then mkdir -p "$root$d"; mount --bind -o ro "$d" "$root$d"; fi
done
# The host's network and pip settings (not when the root is this system: HEMS_ROOT=/).
for f in /etc/resolv.conf /etc/hosts /etc/ssl/certs/ca-certificates.crt \
  /etc/pip.conf /etc/xdg/pip/pip.conf /etc/xdg/pip/constraints.txt; do
  if [ -f "$f" ] && ! [ "$f" -ef "$root$f" ]; then
    mkdir -p "$root$(dirname "$f")"
    cp -L "$f" "$root$f" 2>/dev/null || true
  fi
done
# Settings passed on by name (values may hold spaces or newlines).
for var in $(compgen -e); do
  case $var in PIP_* | HEMS_* | PYTEST_* | COVERAGE_*) extra+=("$var=${!var}") ;; esac
done
exec chroot "$root" /usr/bin/env -i \
  HOME=/root PATH=/opt/hems-venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
  TERM="${TERM:-dumb}" CI="${CI:-}" HEMS_IN_ENV=1 "${extra[@]}" \
  /bin/sh -c 'cd "$0" && exec "$@"' "$cwd" "$@"
INNER
)

# hems_env_run CMD...: runs CMD with the project's venv first on PATH.
hems_env_run() {
  if [ -n "${HEMS_IN_ENV:-}" ]; then "$@"; return; fi
  mkdir -p "$HEMS_CACHE"
  # One builder at a time: concurrent runs wait for the first to finish.
  exec {_hems_lock}>"$HEMS_CACHE/.lock"
  flock "$_hems_lock"
  _hems_prepare
  flock -u "$_hems_lock"
  exec {_hems_lock}>&-
  if _use_host; then
    HEMS_IN_ENV=1 PATH="$HEMS_CACHE/venv-host/bin:$PATH" "$@"
  else
    _in_root "$(_root_dir)" "$@"
  fi
}

_apt_packages() {
  [ -f "$HEMS_APT_PACKAGES" ] && sed -e 's/#.*//' "$HEMS_APT_PACKAGES" | xargs || true
}

# Installs requirements_apt.txt with apt-get, in the root (or on the host).
_hems_prepare_apt() {
  local packages marker want
  packages=$(_apt_packages)
  [ -n "$packages" ] || return 0
  want=$(echo "$packages" | sha256sum | cut -c1-16)
  if _use_host; then
    marker=$HEMS_CACHE/.apt-host
    [ "$(cat "$marker" 2>/dev/null)" = "$want" ] && return 0
    _log "installing Debian packages: $packages"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null; } ||
      { _log "apt-get could not install: $packages"; return 1; }
  else
    local root
    root=$(_root_dir)
    marker=$root/opt/.hems-apt
    [ "$(cat "$marker" 2>/dev/null)" = "$want" ] && return 0
    _log "installing Debian packages into the Python 3.14 root: $packages"
    # The testing suite's mirror may serve an older snapshot: accept its date.
    _in_root "$root" /bin/sh -c "apt-get -o Acquire::Check-Valid-Until=false update -qq &&
      DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Check-Valid-Until=false \
      install -y -qq --no-install-recommends $packages >/dev/null" || { _log "apt-get could not install: $packages"; return 1; }
  fi
  echo "$want" >"$marker"
}

# --- the development Home Assistant ----------------------------------------
# scripts/develop and the browser tests (tests/e2e) run Home Assistant with its
# default integrations: their pip requirements are installed once (a few, for
# the voice assistant, have no wheel for this Python and are built with the
# compiler from requirements_apt.txt: without them the frontend cannot load).

# Installs (inside the environment) the pip requirements of the integrations
# the development HA loads that are missing; one that fails stays out (HA runs
# without that integration).
HEMS_DEV_REQUIREMENTS_SH='
for requirement in $(python scripts/dev_requirements.py config/configuration.yaml); do
  echo "[hems] installing $requirement for the development Home Assistant" >&2
  pip install -q "$requirement" >/dev/null 2>&1 ||
    echo "[hems] could not install $requirement; its integration stays unloaded" >&2
done'

_hems_dev_requirements() {
  local venv=$HEMS_CACHE/venv-host want
  _use_host || venv=$(_root_dir)/opt/hems-venv
  want=$({ _requirements_hash; cat "$HEMS_REPO/config/configuration.yaml" "$HEMS_REPO/scripts/dev_requirements.py"; } | sha256sum | cut -c1-16)
  [ "$(cat "$venv/.hems-dev-requirements" 2>/dev/null)" = "$want" ] && return
  if _use_host; then
    (cd "$HEMS_REPO" && PATH="$venv/bin:$PATH" /bin/sh -c "$HEMS_DEV_REQUIREMENTS_SH")
  else
    (cd "$HEMS_REPO" && _in_root "$(_root_dir)" /bin/sh -c "$HEMS_DEV_REQUIREMENTS_SH")
  fi
  echo "$want" >"$venv/.hems-dev-requirements"
}

_hems_prepare() {
  _hems_prepare_python
  _hems_prepare_apt
  _hems_dev_requirements
}

_hems_prepare_python() {
  local want
  want=$(_requirements_hash)
  if _use_host; then
    local venv=$HEMS_CACHE/venv-host
    if [ "$(cat "$venv/.hems-requirements" 2>/dev/null)" != "$want" ]; then
      _log "installing requirements into $venv"
      rm -rf "$venv"
      python3 -m venv "$venv"
      "$venv/bin/pip" install -q --upgrade pip
      "$venv/bin/pip" install -q $(printf -- '-r %s ' "${HEMS_REQUIREMENTS[@]}")
      echo "$want" >"$venv/.hems-requirements"
    fi
    return
  fi
  local root
  root=$(_root_dir)
  [ -x "$root/usr/bin/python3.14" ] || _build_root "$root"
  if [ "$(cat "$root/opt/hems-venv/.hems-requirements" 2>/dev/null)" != "$want" ]; then
    _log "installing requirements into the Python 3.14 root (once per change of requirements)"
    rm -rf "$root/opt/hems-venv"
    _in_root "$root" /bin/sh -c 'python3.14 -m venv /opt/hems-venv &&
      /opt/hems-venv/bin/pip install -q --upgrade pip &&
      /opt/hems-venv/bin/pip install -q '"$(printf -- '-r %q ' "${HEMS_REQUIREMENTS[@]}")"
    echo "$want" >"$root/opt/hems-venv/.hems-requirements"
  fi
}

#!/usr/bin/env bash
# The environment `coldcost calibrate` needs: a Docker engine and a registry on loopback.
#
#   scripts/calibration-env.sh up       install what is missing, start what is not running, wait
#   scripts/calibration-env.sh down     stop what `up` started and remove what it made
#   scripts/calibration-env.sh status   say what answers and who started it
#
# `up` installs Debian's docker.io and docker-registry when missing (apt-get update first; no
# service is started by the install), then starts, only if nothing answers there already,
#   dockerd --storage-driver overlay2 --iptables=false --ip-forward=false --ip-masq=false
#     (no NAT rules, no forwarding: containers reach nothing beyond this machine), and
#   docker-registry on 127.0.0.1:5000 with filesystem storage under the state folder,
# and waits until both answer. It is idempotent: a second `up` changes nothing. `down` stops
# only the daemons whose pid files `up` wrote (an engine or registry that was already running
# is left alone), deletes the docker0 bridge if `up` made it, and removes the state folder;
# installed packages stay. Needs root (dockerd does). Only loopback is ever listened on.
#
# State folder: $COLDCOST_CALIBRATION_DIR, default /var/tmp/coldcost-calibration.
set -euo pipefail

STATE=${COLDCOST_CALIBRATION_DIR:-/var/tmp/coldcost-calibration}
REGISTRY=127.0.0.1:5000
SOCK=/var/run/docker.sock
DOCKERD=/usr/sbin/dockerd
REGISTRY_BIN=/usr/bin/docker-registry

say() { echo "calibration-env: $*"; }
die() { echo "calibration-env: error: $*" >&2; exit 1; }

engine_answers() { curl -sf --max-time 2 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }
registry_answers() {
  curl -sf --max-time 2 -o /dev/null -D - "http://$REGISTRY/v2/" 2>/dev/null |
    grep -qi '^docker-distribution-api-version: registry/2'
}
# A process that exists and is not a zombie (killed daemons whose parent never reaps them
# stay as zombies, and a zombie's pid in a pid file makes dockerd refuse to start).
running() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]; }
# A pid file whose process is alive and runs the expected program.
alive() {
  local file=$1 prog=$2 pid
  [ -s "$file" ] || return 1
  pid=$(cat "$file")
  running "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$prog"
}
wait_for() { # seconds, check, what
  local n=$(($1 * 10))
  while ! "$2"; do
    n=$((n - 1))
    [ "$n" -gt 0 ] || return 1
    sleep 0.1
  done
}

install_missing() {
  local missing=()
  [ -x "$DOCKERD" ] || missing+=(docker.io)
  [ -x "$REGISTRY_BIN" ] || missing+=(docker-registry)
  command -v curl >/dev/null || missing+=(curl)
  command -v tc >/dev/null || missing+=(iproute2)
  [ ${#missing[@]} -gt 0 ] || return 0
  say "installing ${missing[*]} (Debian packages)"
  # no package may start its service (the registry's default listens on every interface,
  # dockerd's default rewrites iptables): the usual policy-rc.d switch, removed afterwards
  local made_policy=
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    made_policy=1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -z "$made_policy" ] || rm -f /usr/sbin/policy-rc.d
}

start_engine() {
  if engine_answers; then
    if alive "$STATE/dockerd.pid" dockerd; then say "engine: running (started by up)"; else say "engine: already answering on $SOCK; using it"; fi
    return
  fi
  ip link show docker0 >/dev/null 2>&1 || touch "$STATE/made-docker0"
  # pid files of daemons that are gone (e.g. killed when a session ended) would stop dockerd
  local f
  for f in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    if [ -s "$f" ] && ! running "$(cat "$f")"; then rm -f "$f"; fi
  done
  say "starting dockerd (overlay2, no iptables, no forwarding, no masquerading)"
  setsid nohup "$DOCKERD" --storage-driver overlay2 --iptables=false --ip-forward=false --ip-masq=false \
    --data-root "$STATE/docker" >>"$STATE/dockerd.log" 2>&1 </dev/null &
  # setsid may fork, so `$!` is not the daemon: dockerd writes its own pid file
  if ! wait_for 60 engine_answers; then
    tail -n 20 "$STATE/dockerd.log" >&2 || true
    die "dockerd did not answer on $SOCK within 60 s (log: $STATE/dockerd.log)"
  fi
  cp /var/run/docker.pid "$STATE/dockerd.pid"
  say "engine: answering on $SOCK (pid $(cat "$STATE/dockerd.pid"))"
}

start_registry() {
  if registry_answers; then
    if alive "$STATE/registry.pid" docker-registry; then say "registry: running (started by up)"; else say "registry: already answering on $REGISTRY; using it"; fi
    return
  fi
  mkdir -p "$STATE/registry-data"
  cat >"$STATE/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $STATE/registry-data
  delete:
    enabled: true
http:
  addr: $REGISTRY
EOF
  say "starting docker-registry on $REGISTRY (storage $STATE/registry-data)"
  # the child records its own pid before it becomes the registry (exec keeps the pid)
  setsid nohup bash -c 'echo $$ >"$1"; exec "$2" serve "$3"' _ "$STATE/registry.pid" "$REGISTRY_BIN" \
    "$STATE/registry.yml" >>"$STATE/registry.log" 2>&1 </dev/null &
  if ! wait_for 30 registry_answers; then
    tail -n 20 "$STATE/registry.log" >&2 || true
    die "the registry did not answer on http://$REGISTRY/v2/ within 30 s (log: $STATE/registry.log)"
  fi
  say "registry: answering on $REGISTRY (pid $(cat "$STATE/registry.pid"))"
}

stop() { # pid file, program name
  local file=$1 prog=$2 pid
  if ! alive "$file" "$prog"; then
    rm -f "$file"
    return
  fi
  pid=$(cat "$file")
  say "stopping $prog (pid $pid)"
  kill -TERM "$pid"
  local n=300
  while running "$pid" && [ $n -gt 0 ]; do
    sleep 0.1
    n=$((n - 1))
  done
  if running "$pid"; then
    say "$prog did not stop in 30 s; killing it"
    kill -KILL "$pid" || true
    sleep 1
  fi
  rm -f "$file"
}

case "${1:-}" in
up)
  [ "$(id -u)" = 0 ] || die "run as root (dockerd needs it)"
  mkdir -p "$STATE"
  install_missing
  start_engine
  start_registry
  ;;
down)
  if [ -d "$STATE" ]; then
    stop "$STATE/registry.pid" docker-registry
    stop "$STATE/dockerd.pid" dockerd
    if [ -e "$STATE/made-docker0" ] && ip link show docker0 >/dev/null 2>&1; then
      ip link delete docker0 && say "removed the docker0 bridge"
    fi
    # dockerd may leave its data root mounted on itself: unmount what is under our folder
    if ! alive "$STATE/dockerd.pid" dockerd; then
      awk -v d="$STATE/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do
        umount "$m" 2>/dev/null || umount -l "$m" || true
      done
    fi
    if alive "$STATE/dockerd.pid" dockerd || grep -q " $STATE/" /proc/mounts; then
      say "keeping $STATE (still in use)"
    else
      rm -rf "$STATE"
    fi
  fi
  say "down"
  ;;
status)
  if engine_answers; then
    if alive "$STATE/dockerd.pid" dockerd; then echo "engine: up (started by this script, pid $(cat "$STATE/dockerd.pid"))"; else echo "engine: up (not started by this script)"; fi
  else
    echo "engine: down"
  fi
  if registry_answers; then
    if alive "$STATE/registry.pid" docker-registry; then echo "registry: up on $REGISTRY (started by this script, pid $(cat "$STATE/registry.pid"))"; else echo "registry: up on $REGISTRY (not started by this script)"; fi
  else
    echo "registry: down"
  fi
  ;;
*)
  echo "usage: $0 up|down|status" >&2
  exit 2
  ;;
esac

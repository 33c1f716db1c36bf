#!/usr/bin/env bash
# sandbox.sh -- a real Asterisk 22 for development and tests, with no Docker engine:
# a Debian sid root (debootstrap) run through chroot, with the SAME config files as the
# container image (asterisk-docker/etc/ + dialplan/, rendered by render-config.sh).
#
#   sandbox.sh build            build the root once (cached by a marker file)
#   sandbox.sh start            (re)install config, start Asterisk, wait for ARI (<= 30 s);
#                               on failure: log tail, stop, exit 1. Already running? It is
#                               restarted, so the repo's current config is always what runs
#   sandbox.sh stop             core stop now, then kill if needed; unmount
#   sandbox.sh restart          stop + start
#   sandbox.sh status           exit 0 if Asterisk runs and ARI answers 200
#   sandbox.sh logs [N]         tail of messages.log (default 50 lines)
#   sandbox.sh cli "COMMAND"    asterisk -rx COMMAND inside the root
#   sandbox.sh sounds           the host path of the root's sounds/hotline (HOTLINE_SOUNDS_DIR)
#
# Environment:
#   HOTLINE_SANDBOX_ROOT   [/var/cache/hotline/sid-root]
#   HOTLINE_ARI_PASSWORD   required by start (status/cli read the rendered file if unset)
#   HOTLINE_ARI_USER       [hotline]
#   HOTLINE_HTTP_BIND / HOTLINE_HTTP_PORT / HOTLINE_SIP_* / peers: see render-config.sh
#   HOTLINE_DEBIAN_MIRROR  [taken from this machine's apt sources]
# Needs root. Works without a TTY (CI).
set -euo pipefail
umask 022  # files in the root must be readable by the asterisk user

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(dirname "$HERE")
ROOT=${HOTLINE_SANDBOX_ROOT:-/var/cache/hotline/sid-root}
ROOT=${ROOT%/}
MARKER=$ROOT/.hotline-sandbox-built
PACKAGES="asterisk asterisk-modules asterisk-core-sounds-en asterisk-moh-opsound-gsm"
CHROOT_ENV=(/usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8)
# Host-side paths inside the root. Never go through the root's absolute symlinks
# (/var/run -> /run would point at the HOST's /run): use the real directories.
RUNDIR=$ROOT/run/asterisk
PIDFILE=$RUNDIR/asterisk.pid
LOG=$ROOT/var/log/asterisk/messages.log
STARTLOG=$ROOT/var/log/asterisk/startup.log
READY_TIMEOUT=30

say() { echo "sandbox: $*"; }
die() { echo "sandbox: $*" >&2; exit 1; }
need_root() { [[ $EUID -eq 0 ]] || die "must run as root (chroot, mount)"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# ------------------------------------------------------------------ mirror
# The Debian mirror this machine already uses: first non-security URI in the apt sources.
debian_mirror() {
    if [[ -n ${HOTLINE_DEBIAN_MIRROR:-} ]]; then echo "$HOTLINE_DEBIAN_MIRROR"; return; fi
    local uri
    uri=$(
        {
            cat /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '/^[[:space:]]*URIs:/ { for (i = 2; i <= NF; i++) print $i }'
            cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
                awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break } }'
        } | grep -E '^(https?|file)://' | grep -v -- '-security' | head -n 1
    ) || true
    [[ -n $uri ]] || die "no Debian mirror found in /etc/apt/sources* (set HOTLINE_DEBIAN_MIRROR)"
    echo "${uri%/}"
}

# ------------------------------------------------------------------ mounts & processes
is_mounted() { awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts; }

mount_fs() {
    mkdir -p "$ROOT/proc" "$ROOT/dev"
    is_mounted "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
    # debootstrap normally creates the device nodes; bind the host's /dev only where it could not.
    if [[ ! -c $ROOT/dev/null || ! -c $ROOT/dev/urandom ]] && ! is_mounted "$ROOT/dev"; then
        mount --bind /dev "$ROOT/dev"
    fi
}

umount_fs() {
    local m
    for m in "$ROOT/dev" "$ROOT/proc"; do
        if is_mounted "$m"; then umount "$m" 2>/dev/null || umount -l "$m"; fi
    done
}

# Pids of processes whose root directory is the sandbox root (precise: by id, not by name).
root_pids() {
    local p r
    for p in /proc/[0-9]*; do
        r=$(readlink "$p/root" 2>/dev/null) || continue
        [[ $r == "$ROOT" ]] && echo "${p#/proc/}"
    done
    return 0
}

asterisk_pid() {
    local pid
    [[ -f $PIDFILE ]] || return 1
    pid=$(<"$PIDFILE")
    [[ $pid =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
    [[ $(readlink "/proc/$pid/root" 2>/dev/null) == "$ROOT" ]] || return 1
    echo "$pid"
}

# ------------------------------------------------------------------ ARI check
ari_credentials() { # prints user and password, one per line
    local user=${HOTLINE_ARI_USER:-hotline} pass=${HOTLINE_ARI_PASSWORD:-} f=$ROOT/etc/asterisk/ari_users.conf
    if [[ -z $pass && -f $f ]]; then
        user=$(sed -n 's/^\[\(.*\)\]$/\1/p' "$f" | head -n 1)
        pass=$(sed -n 's/^password = //p' "$f" | head -n 1)
    fi
    printf '%s\n%s\n' "$user" "$pass"
}

ari_base() {
    local bind=${HOTLINE_HTTP_BIND:-127.0.0.1} port=${HOTLINE_HTTP_PORT:-8088}
    [[ $bind == 0.0.0.0 || $bind == "::" ]] && bind=127.0.0.1
    [[ $bind == *:* ]] && bind="[$bind]"
    echo "http://$bind:$port"
}

# HTTP status of GET /ari/asterisk/info with the credentials (000 when nothing answers).
ari_info_status() {
    local user pass url
    { read -r user; read -r pass; } < <(ari_credentials)
    url="$(ari_base)/ari/asterisk/info"
    if command -v curl >/dev/null; then
        # Credentials through stdin, not the command line (ps shows arguments).
        local q="$user:$pass"
        q=${q//\\/\\\\}
        q=${q//\"/\\\"}
        printf 'user = "%s"\n' "$q" |
            curl -s -o /dev/null -w '%{http_code}' --max-time 2 -K - "$url" || true
    else
        HOTLINE__U=$user HOTLINE__P=$pass python3 - "$url" <<'PY' || true
import base64, os, sys, urllib.error, urllib.request
tok = base64.b64encode(f"{os.environ['HOTLINE__U']}:{os.environ['HOTLINE__P']}".encode()).decode()
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Basic " + tok})
try:
    with urllib.request.urlopen(req, timeout=2) as r:
        print(r.status, end="")
except urllib.error.HTTPError as e:
    print(e.code, end="")
except Exception:
    print("000", end="")
PY
    fi
}

# ------------------------------------------------------------------ build
cmd_build() {
    need_root
    if [[ -f $MARKER ]] && grep -qxF "packages=$PACKAGES" "$MARKER"; then
        say "root already built: $ROOT ($(sed -n 's/^asterisk=//p' "$MARKER"))"
        return 0
    fi
    local t0 mirror
    t0=$(now)
    mirror=$(debian_mirror)
    if ! command -v debootstrap >/dev/null; then
        say "installing debootstrap on the host"
        DEBIAN_FRONTEND=noninteractive apt-get -o Acquire::Check-Valid-Until=false update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends debootstrap >/dev/null
    fi
    [[ -z $(root_pids) ]] || die "processes still run inside $ROOT: run 'sandbox.sh stop' first"
    umount_fs

    # A root with debootstrap's own /debootstrap folder left is a half-done bootstrap: redo it.
    if [[ ! -x $ROOT/usr/bin/apt-get || -d $ROOT/debootstrap ]]; then
        local part="$ROOT.partial"
        if is_mounted "$part/proc"; then umount "$part/proc" || umount -l "$part/proc"; fi
        rm -rf "$part" "$ROOT"
        mkdir -p "$(dirname "$ROOT")"
        say "debootstrap sid from $mirror (minbase)"
        debootstrap --variant=minbase --include=ca-certificates sid "$part" "$mirror" >"$part.log" 2>&1 ||
            { tail -n 30 "$part.log" >&2; die "debootstrap failed (log: $part.log)"; }
        mv "$part" "$ROOT"
        rm -f "$part.log"
        say "debootstrap done after $(since "$t0") s"
    fi

    mount_fs
    trap 'umount_fs' EXIT
    if [[ -f /etc/resolv.conf ]]; then
        rm -f "$ROOT/etc/resolv.conf"
        cp -L /etc/resolv.conf "$ROOT/etc/resolv.conf"
    fi
    # Never let package scripts start services inside the root.
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"
    chmod 0755 "$ROOT/usr/sbin/policy-rc.d"
    say "installing: $PACKAGES"
    # shellcheck disable=SC2086
    chroot "$ROOT" "${CHROOT_ENV[@]}" DEBIAN_FRONTEND=noninteractive sh -c "
        apt-get -q -o Acquire::Check-Valid-Until=false update >/dev/null &&
        apt-get install -y -q -o Dpkg::Use-Pty=0 --no-install-recommends $PACKAGES >/dev/null &&
        apt-get clean" || die "package installation inside $ROOT failed"
    umount_fs
    trap - EXIT
    {
        echo "built=$(date -u +%FT%TZ)"
        echo "packages=$PACKAGES"
        echo "asterisk=$(chroot "$ROOT" "${CHROOT_ENV[@]}" dpkg-query -W -f='${Version}' asterisk)"
    } >"$MARKER"
    say "built $ROOT in $(since "$t0") s (asterisk $(sed -n 's/^asterisk=//p' "$MARKER"))"
}

# ------------------------------------------------------------------ start
# Where the service writes the speech it synthesises, seen from the host: Asterisk's sounds
# directory (astdatadir/sounds, asterisk.conf) in the root, "hotline" under it.
sounds_dir() { echo "$ROOT/usr/share/asterisk/sounds/hotline"; }

install_config() {
    local etc=$ROOT/etc/asterisk
    # Fresh every time: only our files, none of the package's samples.
    rm -rf "$etc"
    mkdir -p "$etc/dialplan"
    cp -R "$HERE/etc/." "$etc/"
    cp "$REPO"/dialplan/*.conf "$etc/dialplan/"
    "$HERE/render-config.sh" "$etc"
    find "$etc" -type d -exec chmod 0755 {} +
    find "$etc" -type f ! -name ari_users.conf -exec chmod 0644 {} +
    chroot "$ROOT" "${CHROOT_ENV[@]}" chown -R root:asterisk /etc/asterisk
}

install_moh() {
    # Music on hold in the calls' own codecs (see moh-g711.sh and etc/musiconhold.conf).
    if ! command -v sox >/dev/null; then
        say "installing sox on the host (music on hold is converted with it)"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends sox >/dev/null
    fi
    "$HERE/moh-g711.sh" "$ROOT/usr/share/asterisk/moh" "$ROOT/usr/share/asterisk/moh-g711"
}

write_hosts() {
    # Without the machine's own name here, Asterisk's look-ups of it block for seconds
    # (no network): measured 20 calls/s collapsing to 3 calls/s.
    local h
    h=$(hostname 2>/dev/null || uname -n)
    rm -f "$ROOT/etc/hosts"
    {
        echo "127.0.0.1 localhost $h"
        echo "::1 localhost ip6-localhost ip6-loopback"
    } >"$ROOT/etc/hosts"
    # Asterisk runs as its own user: an unreadable hosts file sends every look-up to DNS.
    chmod 0644 "$ROOT/etc/hosts"
}

cmd_start() {
    need_root
    [[ -n ${HOTLINE_ARI_PASSWORD:-} ]] || die "HOTLINE_ARI_PASSWORD is not set (required to start the sandbox)"
    [[ -f $MARKER ]] || die "root not built: run 'sandbox.sh build' first ($ROOT)"
    local t0 pid code
    t0=$(now)
    if asterisk_pid >/dev/null || [[ -n $(root_pids) ]]; then
        say "already running: restarting with the current config"
        cmd_stop
    fi
    install_config
    write_hosts
    install_moh
    mount_fs
    chroot "$ROOT" "${CHROOT_ENV[@]}" install -d -o asterisk -g asterisk /run/asterisk /var/log/asterisk \
        /var/spool/asterisk/recording
    # The service's synthesised speech (HOTLINE_SOUNDS_DIR on the host side, see sounds_dir),
    # owned by Asterisk's user: the service hands it its private files (summaries) as 0600.
    install -d -m 0755 "$(sounds_dir)"
    chroot "$ROOT" "${CHROOT_ENV[@]}" chown asterisk:asterisk /usr/share/asterisk/sounds/hotline
    rm -f "$PIDFILE" "$RUNDIR/asterisk.ctl"
    # One run per log: the previous run's is kept as messages.log.1.
    [[ -f $LOG ]] && mv -f "$LOG" "$LOG.1"
    : >"$STARTLOG"
    # Asterisk daemonises itself; its stdio goes to startup.log, never to our caller's pipes.
    (
        ulimit -n 16384 2>/dev/null || true
        exec chroot "$ROOT" "${CHROOT_ENV[@]}" /usr/sbin/asterisk -U asterisk -G asterisk \
            </dev/null >>"$STARTLOG" 2>&1
    ) || { tail -n 20 "$STARTLOG" >&2; die "asterisk failed to start"; }

    local started=$SECONDS deadline=$((SECONDS + READY_TIMEOUT))
    while ((SECONDS < deadline)); do
        code=$(ari_info_status)
        if [[ $code == 200 ]]; then
            pid=$(asterisk_pid) || pid="?"
            say "running (pid $pid), ARI at $(ari_base)/ari answers; started in $(since "$t0") s"
            return 0
        fi
        # Gone (not just still writing its pid file)? Then waiting longer is pointless.
        if ((SECONDS - started >= 3)) && ! asterisk_pid >/dev/null && [[ -z $(root_pids) ]]; then
            break
        fi
        sleep 0.2
    done
    echo "sandbox: ARI did not answer 200 within ${READY_TIMEOUT} s (last: ${code:-none})" >&2
    [[ -f $LOG ]] && tail -n 40 "$LOG" >&2
    [[ -s $STARTLOG ]] && tail -n 20 "$STARTLOG" >&2
    # Leave nothing half-started behind (CI): stop what we started.
    cmd_stop >&2
    exit 1
}

# ------------------------------------------------------------------ stop
cmd_stop() {
    need_root
    local pid i pids
    if pid=$(asterisk_pid); then
        timeout 10 chroot "$ROOT" "${CHROOT_ENV[@]}" /usr/sbin/asterisk -rx "core stop now" >/dev/null 2>&1 || true
        for ((i = 0; i < 50; i++)); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
    fi
    # Whatever still runs inside the root (a hung asterisk, a stray remote console).
    pids=$(root_pids)
    if [[ -n $pids ]]; then
        # shellcheck disable=SC2086
        kill -TERM $pids 2>/dev/null || true
        for ((i = 0; i < 30; i++)); do
            pids=$(root_pids)
            [[ -z $pids ]] && break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
        sleep 0.2
    fi
    umount_fs
    rm -f "$PIDFILE" "$RUNDIR/asterisk.ctl"
    say "stopped"
}

cmd_status() {
    local pid code
    if ! pid=$(asterisk_pid); then
        say "not running"
        return 3
    fi
    code=$(ari_info_status)
    if [[ $code == 200 ]]; then
        say "running (pid $pid), ARI answers 200 at $(ari_base)/ari"
        return 0
    fi
    say "asterisk runs (pid $pid) but ARI answered ${code:-nothing}"
    return 1
}

cmd_logs() {
    local n=${1:-50}
    [[ -f $LOG ]] || die "no log yet: $LOG"
    tail -n "$n" "$LOG"
}

cmd_cli() {
    need_root
    [[ $# -ge 1 ]] || die "usage: sandbox.sh cli \"COMMAND\""
    asterisk_pid >/dev/null || die "not running"
    chroot "$ROOT" "${CHROOT_ENV[@]}" /usr/sbin/asterisk -rx "$*"
}

case ${1:-} in
    build) cmd_build ;;
    start) cmd_start ;;
    sounds) sounds_dir ;;
    stop) cmd_stop ;;
    restart) cmd_stop; cmd_start ;;
    status) cmd_status ;;
    logs) shift; cmd_logs "$@" ;;
    cli) shift; cmd_cli "$@" ;;
    *)
        sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
        [[ -z ${1:-} || $1 == -h || $1 == --help || $1 == help ]] || exit 2
        ;;
esac

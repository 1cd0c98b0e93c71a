#!/usr/bin/env bash
# Stop the single-node SLURM started by .ci/slurm-up.sh: slurmd, slurmctld and munged, each by
# the PID it recorded (never by name). Leaves the packages and configuration installed.
set -uo pipefail

log() { echo "[slurm-down] $*" >&2; }

stop_pidfile() {  # stop_pidfile <name> <pidfile>
    local name="$1" file="$2" pid
    [ -s "$file" ] || { log "$name: no pid file"; return 0; }
    pid="$(cat "$file")"
    if kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        log "$name ($pid) stopped"
    fi
    rm -f "$file"
}

stop_pidfile slurmd /run/slurm/slurmd.pid
stop_pidfile slurmctld /run/slurm/slurmctld.pid
# munged writes its PID file under /run/munge.
stop_pidfile munged /run/munge/munged.pid

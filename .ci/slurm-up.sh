#!/usr/bin/env bash
# Start a single-node SLURM cluster on localhost for the `slurm` tests (tests/test_slurm.py).
#
# Idempotent: installs Debian's slurm-wlm + munge only when missing, (re)writes
# /etc/slurm/slurm.conf and gres.conf, starts munged / slurmctld / slurmd only when they are not
# already running, and waits until `sinfo` reports the node idle. Needs root (CI containers run as
# root). Follows the verified recipe in docs/scale-out.md ("A local SLURM for testing").
#
# Environment overrides:
#   QUAKESAR_SLURM_CPUS     CPUs the fake node advertises (default: nproc)
#   QUAKESAR_SLURM_MEM_MB   RealMemory of the fake node in MB (default: 20000)
#   QUAKESAR_SLURM_TIMEOUT  seconds to wait for the node to become idle (default: 60)
#
# Stop with .ci/slurm-down.sh.
set -euo pipefail

cpus="${QUAKESAR_SLURM_CPUS:-$(nproc)}"
mem_mb="${QUAKESAR_SLURM_MEM_MB:-20000}"
timeout_s="${QUAKESAR_SLURM_TIMEOUT:-60}"

log() { echo "[slurm-up] $*" >&2; }

if [ "$(id -u)" -ne 0 ]; then
    log "must run as root (installs packages and starts daemons); got uid $(id -u)"
    exit 1
fi

# ---------------------------------------------------------------- packages
if ! command -v slurmctld >/dev/null 2>&1 || ! command -v munged >/dev/null 2>&1; then
    log "installing slurm-wlm and munge (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq slurm-wlm munge >/dev/null
fi

# ---------------------------------------------------------------- munge
if [ ! -s /etc/munge/munge.key ]; then
    log "creating /etc/munge/munge.key"
    if command -v mungekey >/dev/null 2>&1; then
        mungekey --create --force
    else
        dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    fi
    chown munge:munge /etc/munge/munge.key
    chmod 0400 /etc/munge/munge.key
fi
mkdir -p /run/munge /var/log/munge /var/lib/munge
chown munge:munge /run/munge /var/log/munge /var/lib/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    log "starting munged"
    su -s /bin/sh munge -c /usr/sbin/munged
    for _ in $(seq 1 20); do
        munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break
        sleep 0.5
    done
    munge -n | unmunge >/dev/null || { log "munge does not work"; exit 1; }
fi

# ---------------------------------------------------------------- configuration
mkdir -p /etc/slurm
conf=$(cat <<EOF
# Written by quakesar .ci/slurm-up.sh: a single-node test cluster on localhost.
ClusterName=localcluster
SlurmctldHost=localhost
SlurmUser=slurm
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=/var/spool/slurmctld
SlurmdSpoolDir=/var/spool/slurmd
SlurmctldPidFile=/run/slurm/slurmctld.pid
SlurmdPidFile=/run/slurm/slurmd.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MpiDefault=none
ReturnToService=2
# Finished jobs stay visible to squeue for 10 min: the executor plugin's squeue status command
# needs MinJobAge >= 3 x --slurm-init-seconds-before-status-checks, and the test reads them back.
MinJobAge=600
GresTypes=gpu
NodeName=localhost NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${mem_mb} Gres=gpu:1 State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
EOF
)
# A fake GPU (File=/dev/null) so that `gpu: 1` requests are scheduled and visible in the job.
gres="NodeName=localhost Name=gpu Count=1 File=/dev/null"
changed=0
if [ "$(cat /etc/slurm/slurm.conf 2>/dev/null)" != "$conf" ]; then
    printf '%s\n' "$conf" > /etc/slurm/slurm.conf
    changed=1
fi
if [ "$(cat /etc/slurm/gres.conf 2>/dev/null)" != "$gres" ]; then
    printf '%s\n' "$gres" > /etc/slurm/gres.conf
    changed=1
fi
# No cgroup.conf: SLURM 22.05 has no `CgroupPlugin=disabled`; autodetection works here.

mkdir -p /var/spool/slurmctld /var/spool/slurmd /var/log/slurm /run/slurm
chown slurm:slurm /var/spool/slurmctld /var/log/slurm /run/slurm

running() {  # running <pidfile>
    [ -s "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null
}

if [ "$changed" -eq 1 ] && running /run/slurm/slurmctld.pid; then
    log "configuration changed: restarting the daemons"
    kill "$(cat /run/slurm/slurmd.pid 2>/dev/null)" 2>/dev/null || true
    kill "$(cat /run/slurm/slurmctld.pid)" 2>/dev/null || true
    sleep 2
fi

if ! running /run/slurm/slurmctld.pid; then
    log "starting slurmctld"
    /usr/sbin/slurmctld
fi
if ! running /run/slurm/slurmd.pid; then
    log "starting slurmd"
    # -N: the node is named localhost whatever the container's hostname is.
    /usr/sbin/slurmd -N localhost
fi

# ---------------------------------------------------------------- wait for an idle node
deadline=$(( $(date +%s) + timeout_s ))
while :; do
    state="$(sinfo --noheader --nodes=localhost --format=%t 2>/dev/null | head -1 || true)"
    case "$state" in
        idle|mix|alloc) break ;;
        down*|drain*|fail*)
            scontrol update nodename=localhost state=resume >/dev/null 2>&1 || true ;;
    esac
    if [ "$(date +%s)" -ge "$deadline" ]; then
        log "node not idle after ${timeout_s}s (state '${state}'); see /var/log/slurm/*.log"
        exit 1
    fi
    sleep 1
done
log "ready: $(sinfo --noheader --format='%P %a %l %D %t %N' | head -1)"

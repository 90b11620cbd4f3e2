#!/usr/bin/env bash
# Starts a private single-node Slurm (Debian's slurm-wlm + munge, as root, no cgroups) for tests and
# for trying the sweep job array on one machine:
#
#   bash scripts/slurm-start.sh DIR      # DIR: a scratch folder (config, state, logs, pid files)
#   source DIR/env                       # SLURM_CONF for sbatch/squeue/sinfo
#   sbatch --array=0-3 --wait scripts/slurm-sweep.sh SPEC OUTDIR [hvsim sweep flags]
#   bash scripts/slurm-stop.sh DIR       # stops what this script started, by pid file
#
# munged: started only when no munge daemon answers (`munge -n | unmunge`), with the key
# /etc/munge/munge.key (created, 1024 random bytes, when absent) and the default socket
# /run/munge/munge.socket.2; if started here, its pid is in DIR/munged.pid and slurm-stop.sh stops it.
# Ports: HVSIM_SLURM_PORT (slurmctld, default 6817) and the next one (slurmd).
# Exit codes: 0 the node is idle; 3 a prerequisite is missing (not root, a binary not installed: the
# message says which); 1 a daemon did not come up (its log tail is printed).
set -euo pipefail

DIR=${1:?usage: slurm-start.sh DIR}
mkdir -p "$DIR"
DIR=$(cd "$DIR" && pwd)
log() { echo "[slurm-start] $*" >&2; }

[[ "$(id -u)" == 0 ]] || { log "needs root (munged and slurmd run as root here; SlurmUser=root)"; exit 3; }
for b in munged munge unmunge slurmctld slurmd sbatch sinfo; do
  command -v "$b" >/dev/null 2>&1 || [[ -x "/usr/sbin/$b" ]] || { log "$b is not installed (Debian packages slurm-wlm and munge; scripts/setup.sh installs them)"; exit 3; }
done
export PATH="$PATH:/usr/sbin"

# ---- munge
if munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
  log "munge already answers; using it"
else
  if [[ ! -s /etc/munge/munge.key ]]; then
    mkdir -p /etc/munge
    head -c 1024 /dev/urandom > /etc/munge/munge.key
  fi
  chown munge:munge /etc/munge/munge.key 2>/dev/null || true
  chmod 400 /etc/munge/munge.key
  mkdir -p /run/munge /var/lib/munge /var/log/munge
  chown munge:munge /run/munge /var/lib/munge /var/log/munge 2>/dev/null || true
  chmod 755 /run/munge
  if id munge >/dev/null 2>&1; then
    runuser -u munge -- munged --pid-file=/run/munge/hvsim-munged.pid
    cp /run/munge/hvsim-munged.pid "$DIR/munged.pid"
  else
    munged --force --pid-file="$DIR/munged.pid"
  fi
  for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
  munge -n | unmunge >/dev/null || { log "munged started but does not answer"; exit 1; }
  log "munged started (pid $(cat "$DIR/munged.pid"))"
fi

# ---- slurm.conf
HOST=$(hostname -s)
PORT=${HVSIM_SLURM_PORT:-6817}
mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
cat > "$DIR/slurm.conf" <<CONF
# written by hvsim scripts/slurm-start.sh: a one-node cluster for tests
ClusterName=hvsim
SlurmctldHost=$HOST
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
MaxArraySize=10001
NodeName=$HOST CPUs=$(nproc) State=UNKNOWN
PartitionName=hvsim Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
echo "export SLURM_CONF=$DIR/slurm.conf" > "$DIR/env"
export SLURM_CONF=$DIR/slurm.conf

slurmctld -f "$SLURM_CONF"
for _ in $(seq 100); do [[ -s "$DIR/slurmctld.pid" ]] && scontrol ping >/dev/null 2>&1 && break; sleep 0.2; done
scontrol ping >/dev/null 2>&1 || { log "slurmctld did not answer; log tail:"; tail -20 "$DIR/log/slurmctld.log" >&2 || true; exit 1; }
slurmd -f "$SLURM_CONF"
for _ in $(seq 150); do
  state=$(sinfo -h -o %T 2>/dev/null | head -1 || true)
  [[ "$state" == idle ]] && break
  sleep 0.2
done
if [[ "$state" != idle ]]; then
  log "the node is not idle (sinfo: ${state:-nothing}); slurmd log tail:"; tail -20 "$DIR/log/slurmd.log" >&2 || true
  exit 1
fi
log "node $HOST idle ($(nproc) CPUs), SLURM_CONF=$SLURM_CONF"

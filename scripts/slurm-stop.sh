#!/usr/bin/env bash
# Stops the daemons scripts/slurm-start.sh DIR started, by their pid files in DIR (slurmd, slurmctld,
# and munged only if that script started it).
set -uo pipefail
DIR=${1:?usage: slurm-stop.sh DIR}
for d in slurmd slurmctld munged; do
  f="$DIR/$d.pid"
  [[ -s "$f" ]] || continue
  pid=$(cat "$f")
  if kill "$pid" 2>/dev/null; then
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null
  fi
  rm -f "$f"
done

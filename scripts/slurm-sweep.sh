#!/usr/bin/env bash
#SBATCH --job-name=hvsim-sweep
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
# One array task of an hvsim sweep: runs shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT and writes
# its part to OUTDIR; `hvsim merge OUTDIR` then gives the tables of the whole sweep.
#
#   sbatch --array=0-$((N-1)) [--output=OUTDIR/slurm-%A_%a.out] scripts/slurm-sweep.sh SPEC OUTDIR [hvsim sweep flags]
#   node dist/cli.js merge OUTDIR --json
#
# Run sbatch from the repository (the job finds dist/cli.js under SLURM_SUBMIT_DIR, or HVSIM_ROOT if set);
# SPEC and OUTDIR relative to it. The flags (--grid, --seeds, --metrics, --cache/--no-cache) must be the
# same for every array task, as sbatch passes them. Each task uses --cpus-per-task worker threads.
set -euo pipefail
SPEC=${1:?usage: slurm-sweep.sh SPEC OUTDIR [hvsim sweep flags]}
OUT=${2:?usage: slurm-sweep.sh SPEC OUTDIR [hvsim sweep flags]}
shift 2
ROOT=${HVSIM_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}
cd "$ROOT"
ID=${SLURM_ARRAY_TASK_ID:?not a Slurm array task (SLURM_ARRAY_TASK_ID unset): submit with sbatch --array=0-N-1}
COUNT=${SLURM_ARRAY_TASK_COUNT:-$((SLURM_ARRAY_TASK_MAX - SLURM_ARRAY_TASK_MIN + 1))}
(( ${SLURM_ARRAY_TASK_MIN:-0} == 0 )) || { echo "slurm-sweep.sh: the array must start at 0 (--array=0-N-1)" >&2; exit 2; }
exec node "$ROOT/dist/cli.js" sweep "$SPEC" "$@" --shard "$ID/$COUNT" --out "$OUT" --workers "${SLURM_CPUS_PER_TASK:-1}"

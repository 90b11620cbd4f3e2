#!/usr/bin/env bash
# Idempotent setup for a fresh Debian 12 machine (or CI container):
#   1. Debian packages for headless notebook execution (jupyter nbconvert + nbclient),
#      the render smoke test (chromium) and the Slurm job-array integration test (slurm-wlm,
#      munge: a single-node Slurm started by scripts/slurm-start.sh) and trace-cmd (the trace.dat
#      export test reads hvsim's traces back with `trace-cmd report`). Skipped when already present.
#   2. npm dependencies (npm ci, or npm install when there is no lockfile).
#   3. npm run build (notebooks import the *built* package through the hvsim self-link).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

APT_PACKAGES=(jupyter-nbconvert python3-nbclient python3-jupyter-client chromium slurm-wlm munge trace-cmd)
log() { echo "[setup] $*"; }
t0=$SECONDS

have_jupyter() {
  [[ -x /usr/bin/jupyter ]] && [[ -x /usr/bin/python3 ]] \
    && /usr/bin/python3 -c 'import nbclient, jupyter_client' >/dev/null 2>&1
}

have_slurm() {
  [[ -x /usr/sbin/slurmctld ]] && [[ -x /usr/sbin/slurmd ]] && [[ -x /usr/bin/sbatch ]] && [[ -x /usr/sbin/munged ]]
}

have_trace_cmd() {
  [[ -x /usr/bin/trace-cmd ]]
}

if have_jupyter && { { [[ -x /usr/bin/chromium ]] && have_slurm && have_trace_cmd; } || [[ "$(id -u)" != 0 ]]; }; then
  log "Debian packages already present (/usr/bin/jupyter, nbclient$([[ -x /usr/bin/chromium ]] && echo ', chromium')$(have_slurm && echo ', slurm-wlm, munge')$(have_trace_cmd && echo ', trace-cmd')); skipping apt"
  have_slurm || log "note: slurm-wlm/munge missing and not root: the Slurm integration test will skip"
  have_trace_cmd || log "note: trace-cmd missing and not root: the trace.dat read-back test will skip (it fails in CI)"
elif [[ "$(id -u)" == 0 ]]; then
  log "installing Debian packages: ${APT_PACKAGES[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"
  have_jupyter || { log "ERROR: /usr/bin/jupyter or python3 nbclient still missing after apt-get install"; exit 1; }
  have_slurm || { log "ERROR: slurmctld/slurmd/sbatch/munged still missing after apt-get install"; exit 1; }
  have_trace_cmd || { log "ERROR: /usr/bin/trace-cmd still missing after apt-get install"; exit 1; }
else
  # Not root and jupyter missing: we cannot install system packages ourselves.
  cat >&2 <<MSG
[setup] ERROR: /usr/bin/jupyter (with python3 nbclient) is not installed, and this script is not
[setup] running as root, so it cannot install it. Please run, as root:
[setup]   apt-get update
[setup]   apt-get install -y --no-install-recommends ${APT_PACKAGES[*]}
[setup] (chromium is optional: it is only used for the HTML render smoke test; slurm-wlm and munge
[setup] only for the Slurm job-array integration test, which skips without them; trace-cmd only for
[setup] the trace.dat read-back test.)
MSG
  exit 1
fi

# npm ci wipes and reinstalls node_modules (about a minute); it is skipped when node_modules was
# installed by this script from the same package-lock.json, .npmrc and node version (the stamp
# below; any change to them, or a missing stamp, reinstalls). HVSIM_FORCE_NPM_CI=1 always reinstalls.
LOCK_STAMP=node_modules/.hvsim-install-stamp
lock_key() { { cat package-lock.json .npmrc 2>/dev/null; node --version; } | sha256sum | cut -d' ' -f1; }
if [[ -f package-lock.json && "${HVSIM_FORCE_NPM_CI:-0}" != 1 && -f "$LOCK_STAMP" && "$(cat "$LOCK_STAMP")" == "$(lock_key)" ]]; then
  log "node_modules is current for package-lock.json (stamp $LOCK_STAMP); skipping npm ci"
elif [[ -f package-lock.json ]]; then
  log "npm ci"
  npm ci --no-audit --no-fund
  lock_key > "$LOCK_STAMP"
else
  log "npm install (no package-lock.json)"
  npm install --no-audit --no-fund
fi

log "npm run build"
npm run build

log "done in $((SECONDS - t0)) s"

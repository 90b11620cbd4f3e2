#!/usr/bin/env bash
# Execute notebooks headlessly with the repo-local tslab kernel, export them to HTML and check
# the results.
#
# Usage: scripts/run-notebooks.sh [NOTEBOOK.ipynb ...]     (default: notebooks/*.ipynb)
#
#   1. executes each notebook with `jupyter nbconvert --execute` into build/notebooks/
#      (kernel cwd = the notebook's folder; the caller's environment, e.g. HVSIM_QUICK=1,
#      is inherited by the kernel);
#   2. exports each executed notebook to HTML in build/site/;
#   3. scripts/check-notebooks.mjs: fails on UncaughtException / UnhandledPromiseRejection on
#      stderr and on error outputs (which nbconvert's exit code misses);
#   4. scripts/check-html.mjs (only if /usr/bin/chromium exists): renders each page and checks
#      that every Plotly figure draws.
# Exits non-zero if any step fails for any notebook (all notebooks are still attempted).
#
# Environment:
#   HVSIM_CELL_TIMEOUT   per-cell timeout in seconds (default 1800)
#   HVSIM_PLOTLY_JS      "lean": figures carry no inlined plotly.js; HTML is rendered with the
#                        nbconvert/templates/hvsim-lean template plus a shared plotly.min.js
#   HVSIM_SKIP_HTML_CHECK=1  skip the chromium render check
#   HVSIM_NOTEBOOK_OUT   output root (default build): executed notebooks in $OUT/notebooks,
#                        HTML in $OUT/site, render-check screenshots in $OUT/screenshots
# Requires: the Debian packages and `npm run build` (see scripts/setup.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
JUPYTER=/usr/bin/jupyter
log() { echo "[notebooks] $*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# Resolve explicit notebook paths against the caller's cwd before changing directory.
notebooks=()
for arg in "$@"; do
  if [[ ! -f "$arg" ]]; then
    log "ERROR: no such notebook: $arg"
    exit 2
  fi
  notebooks+=("$(cd "$(dirname "$arg")" && pwd)/$(basename "$arg")")
done
cd "$ROOT"
if [[ ${#notebooks[@]} -eq 0 ]]; then
  shopt -s nullglob
  notebooks=("$ROOT"/notebooks/*.ipynb)
  shopt -u nullglob
  if [[ ${#notebooks[@]} -eq 0 ]]; then
    log "no notebooks found in notebooks/; nothing to do"
    exit 0
  fi
fi

if [[ ! -x "$JUPYTER" ]] || ! /usr/bin/python3 -c 'import nbclient' >/dev/null 2>&1; then
  log "ERROR: $JUPYTER (jupyter-nbconvert + python3-nbclient) is not installed; run: bash scripts/setup.sh"
  exit 1
fi
if [[ ! -x node_modules/.bin/tslab ]]; then
  log "ERROR: node_modules/.bin/tslab missing; run: npm ci (or bash scripts/setup.sh)"
  exit 1
fi
if [[ ! -f dist/notebook/index.js ]]; then
  log "ERROR: dist/notebook/index.js missing; notebooks import the built package: run npm run build"
  exit 1
fi

TIMEOUT="${HVSIM_CELL_TIMEOUT:-1800}"
if ! [[ "$TIMEOUT" =~ ^[0-9]+$ ]]; then
  log "ERROR: HVSIM_CELL_TIMEOUT must be a whole number of seconds (got '$TIMEOUT')"
  exit 2
fi
OUT="${HVSIM_NOTEBOOK_OUT:-$ROOT/build}"
NB_OUT="$OUT/notebooks"
SITE_OUT="$OUT/site"
SHOT_OUT="$OUT/screenshots"
mkdir -p "$NB_OUT" "$SITE_OUT" "$SHOT_OUT"

# Repo-local kernelspec (jupyter/kernels/tslab) first; keep any caller-provided paths after it.
export JUPYTER_PATH="$ROOT/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
LEAN=0
[[ "${HVSIM_PLOTLY_JS:-}" == "lean" ]] && LEAN=1

# Refuse two notebooks with the same file name: their outputs would overwrite each other.
declare -A seen=()
for nb in "${notebooks[@]}"; do
  base="$(basename "$nb")"
  if [[ -n "${seen[$base]:-}" ]]; then
    log "ERROR: two notebooks named $base (${seen[$base]} and $nb); outputs would collide"
    exit 2
  fi
  seen[$base]="$nb"
done

t_all="$(now)"
failed=()
executed=()
summary=()
log "${#notebooks[@]} notebook(s); cell timeout ${TIMEOUT}s; output $NB_OUT, $SITE_OUT$([[ $LEAN == 1 ]] && echo '; lean plotly mode')"
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb" .ipynb)"
  rel="${nb#"$ROOT"/}"
  rm -f "$NB_OUT/$name.ipynb" "$SITE_OUT/$name.html" "$SHOT_OUT/$name.png"
  log "executing $rel ..."
  t0="$(now)"
  if "$JUPYTER" nbconvert --to notebook --execute \
      --ExecutePreprocessor.kernel_name=tslab \
      --ExecutePreprocessor.timeout="$TIMEOUT" \
      --ExecutePreprocessor.startup_timeout=60 \
      --ExecutePreprocessor.record_timing=False \
      --output-dir "$NB_OUT" "$nb"; then
    secs="$(elapsed "$t0")"
    log "executed $rel in ${secs} s"
    executed+=("$name")
    summary+=("$(printf '%-40s execute %7ss' "$rel" "$secs")")
  else
    secs="$(elapsed "$t0")"
    log "FAILED executing $rel after ${secs} s (see the cell error above)"
    failed+=("$rel (execute)")
    summary+=("$(printf '%-40s execute FAILED after %ss' "$rel" "$secs")")
  fi
done

if [[ ${#executed[@]} -gt 0 ]]; then
  html_args=(--to html --output-dir "$SITE_OUT")
  if [[ $LEAN == 1 ]]; then
    html_args+=(--TemplateExporter.extra_template_basedirs="$ROOT/nbconvert/templates" --template hvsim-lean)
    cp node_modules/plotly.js-dist-min/plotly.min.js "$SITE_OUT/plotly.min.js"
  fi
  for name in "${executed[@]}"; do
    log "exporting HTML $name.html ..."
    t0="$(now)"
    if "$JUPYTER" nbconvert "${html_args[@]}" "$NB_OUT/$name.ipynb"; then
      log "exported ${SITE_OUT#"$ROOT"/}/$name.html in $(elapsed "$t0") s ($(du -h "$SITE_OUT/$name.html" | cut -f1))"
    else
      failed+=("$name (html export)")
    fi
  done

  log "checking executed notebooks ..."
  check_files=()
  for name in "${executed[@]}"; do check_files+=("$NB_OUT/$name.ipynb"); done
  if ! node scripts/check-notebooks.mjs "${check_files[@]}"; then
    failed+=("check-notebooks")
  fi

  if [[ -x /usr/bin/chromium && "${HVSIM_SKIP_HTML_CHECK:-0}" != 1 ]]; then
    for name in "${executed[@]}"; do
      html="$SITE_OUT/$name.html"
      [[ -f "$html" ]] || continue
      n_fig="$(node scripts/check-notebooks.mjs --count-figures "$NB_OUT/$name.ipynb")"
      log "render check $name.html (expect $n_fig figures) ..."
      if ! node scripts/check-html.mjs "$html" --expect "$n_fig" --png "$SHOT_OUT/$name.png"; then
        failed+=("$name (render check)")
      fi
    done
  else
    log "render check skipped ($([[ -x /usr/bin/chromium ]] && echo 'HVSIM_SKIP_HTML_CHECK=1' || echo 'no /usr/bin/chromium'))"
  fi
fi

log "summary:"
for line in "${summary[@]}"; do log "  $line"; done
log "total $(elapsed "$t_all") s"
if [[ ${#failed[@]} -gt 0 ]]; then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "all ${#notebooks[@]} notebook(s) OK"

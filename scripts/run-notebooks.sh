#!/usr/bin/env bash
# Execute notebooks headlessly with the repo-local tslab kernel, export them to a standalone HTML
# site and check the results.
#
# Usage: scripts/run-notebooks.sh [--no-cache] [NOTEBOOK.ipynb ...]     (default: notebooks/*.ipynb)
#
#   The notebooks' simulations (the experiments' reproduce/sweep/runAll/detail and runSpecs) go
#   through hvsim's result cache, by default $ROOT/.hvsim-cache (HVSIM_CACHE_DIR overrides it), on
#   worker threads (all cores; HVSIM_WORKERS overrides): a second run with unchanged code and
#   data/ is served from the cache. The cache key hashes the compiled dist/ and data/, so a
#   rebuild that changes the model misses. --no-cache (or HVSIM_NO_CACHE=1) simulates everything.
#
#   1. executes the notebooks (HVSIM_NOTEBOOK_JOBS at a time) with nbconvert/execute.py (nbclient, the machinery of
#      `nbconvert --execute`) into $OUT/notebooks/: cells run in order with execution counts;
#      the first failing cell gets a readable error output (name, message, short stack) that is
#      also printed here, and every later code cell says it was not run; the executed notebook
#      is written even then (kernel cwd = the notebook's folder; the caller's environment, e.g.
#      HVSIM_QUICK=1, is inherited by the kernel);
#   2. exports each executed notebook to HTML in $OUT/site/ with the hvsim-lean template: no
#      absolute paths, figures drawn by one shared plotly.min.js and styled by one shared
#      hvsim-lab.css, both copied next to the pages (HVSIM_SITE_SINGLE_FILE=1 inlines both
#      into every page instead);
#   3. scripts/check-notebooks.mjs: fails on error outputs (printing the message), cells that
#      were not run, empty figures, UncaughtException / UnhandledPromiseRejection on stderr;
#   4. scripts/check-html.mjs: fails on any file:// reference, a missing local asset, a page
#      over 1 MB while plotly.js is shared, and (if /usr/bin/chromium exists) renders each page
#      and checks that every Plotly figure draws with data.
# Exits non-zero if any step fails for any notebook (all notebooks are still attempted).
#
# Environment:
#   HVSIM_CELL_TIMEOUT   per-cell timeout in seconds (default 1800)
#   HVSIM_NOTEBOOK_JOBS  notebooks executed at a time (default: the cores, nproc)
#   HVSIM_CACHE_DIR, HVSIM_NO_CACHE=1, HVSIM_WORKERS   the result cache and worker threads (above)
#   HVSIM_PLOTLY_JS      passed to the kernel; default here "lean" (figures as Plotly JSON only,
#                        no plotly.js inlined into the .ipynb); "inline"/"none" also render
#   HVSIM_SITE_SINGLE_FILE=1  every page inlines plotly.min.js and the CSS (no shared assets)
#   HVSIM_SKIP_HTML_CHECK=1  skip the chromium render check (the static checks still run)
#   HVSIM_NOTEBOOK_OUT   output root: executed notebooks in $OUT/notebooks, HTML in $OUT/site,
#                        render-check screenshots in $OUT/screenshots. Default: build, the
#                        published site, for full-length runs; with HVSIM_QUICK=1 the default
#                        is build/quick, so quick runs never overwrite the published pages.
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
  if [[ "$arg" == --no-cache ]]; then
    export HVSIM_NO_CACHE=1
    continue
  fi
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
if [[ -n "${HVSIM_NOTEBOOK_OUT:-}" ]]; then
  OUT="$HVSIM_NOTEBOOK_OUT"
elif [[ "${HVSIM_QUICK:-}" == 1 ]]; then
  OUT="$ROOT/build/quick"   # quick (CI) runs never replace the published full-length pages
else
  OUT="$ROOT/build"
fi
NB_OUT="$OUT/notebooks"
SITE_OUT="$OUT/site"
SHOT_OUT="$OUT/screenshots"
mkdir -p "$NB_OUT" "$SITE_OUT" "$SHOT_OUT"

# Repo-local kernelspec (jupyter/kernels/tslab) first; keep any caller-provided paths after it.
export JUPYTER_PATH="$ROOT/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
export HVSIM_PLOTLY_JS="${HVSIM_PLOTLY_JS:-lean}"
# The result cache of the notebooks' runs (the kernels run in notebooks/, so an absolute folder).
export HVSIM_CACHE_DIR="${HVSIM_CACHE_DIR:-$ROOT/.hvsim-cache}"
if [[ "${HVSIM_NO_CACHE:-0}" == 1 ]]; then CACHE_NOTE="no result cache"; else CACHE_NOTE="result cache $HVSIM_CACHE_DIR"; fi
SINGLE=0
[[ "${HVSIM_SITE_SINGLE_FILE:-0}" == 1 ]] && SINGLE=1
TEMPLATE_ARGS=(--TemplateExporter.extra_template_basedirs="$ROOT/nbconvert/templates")

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
log "${#notebooks[@]} notebook(s); cell timeout ${TIMEOUT}s; output $NB_OUT, $SITE_OUT; HVSIM_PLOTLY_JS=$HVSIM_PLOTLY_JS; $CACHE_NOTE; $([[ $SINGLE == 1 ]] && echo 'single-file pages' || echo 'shared plotly.min.js + hvsim-lab.css')"
# Notebooks run concurrently, HVSIM_NOTEBOOK_JOBS at a time (default: the cores): a warm run is
# mostly kernel start-up and cell compilation, one core each. Each notebook's output is kept in a
# log and printed in notebook order once all are done.
JOBS="${HVSIM_NOTEBOOK_JOBS:-$(nproc 2>/dev/null || echo 1)}"
if ! [[ "$JOBS" =~ ^[1-9][0-9]*$ ]]; then
  log "ERROR: HVSIM_NOTEBOOK_JOBS must be a positive whole number (got '$JOBS')"
  exit 2
fi
RUN_LOGS="$(mktemp -d)"
trap 'rm -rf "$RUN_LOGS"' EXIT
execute_one() {
  local nb="$1" name="$2" t0
  t0="$(now)"
  if /usr/bin/python3 "$ROOT/nbconvert/execute.py" --timeout "$TIMEOUT" --output "$NB_OUT/$name.ipynb" "$nb" > "$RUN_LOGS/$name.log" 2>&1; then
    echo 0 > "$RUN_LOGS/$name.rc"
  else
    echo 1 > "$RUN_LOGS/$name.rc"
  fi
  elapsed "$t0" > "$RUN_LOGS/$name.secs"
}
log "executing ${#notebooks[@]} notebook(s), $JOBS at a time ..."
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb" .ipynb)"
  rm -f "$NB_OUT/$name.ipynb" "$SITE_OUT/$name.html" "$SHOT_OUT/$name.png"
  while [[ "$(jobs -rp | wc -l)" -ge "$JOBS" ]]; do wait -n || true; done
  log "executing ${nb#"$ROOT"/} ..."
  execute_one "$nb" "$name" &
done
wait
for nb in "${notebooks[@]}"; do
  name="$(basename "$nb" .ipynb)"
  rel="${nb#"$ROOT"/}"
  cat "$RUN_LOGS/$name.log"
  secs="$(cat "$RUN_LOGS/$name.secs" 2>/dev/null || echo '?')"
  if [[ "$(cat "$RUN_LOGS/$name.rc" 2>/dev/null)" == 0 ]]; then
    log "executed $rel in ${secs} s"
    executed+=("$name")
    summary+=("$(printf '%-40s execute %7ss' "$rel" "$secs")")
  else
    log "FAILED executing $rel after ${secs} s (the failing cell and its error are printed above)"
    failed+=("$rel (execute)")
    summary+=("$(printf '%-40s execute FAILED after %ss' "$rel" "$secs")")
    # The executed copy shows the error in the failing cell: export and check it too.
    [[ -f "$NB_OUT/$name.ipynb" ]] && executed+=("$name")
  fi
done

if [[ ${#executed[@]} -gt 0 ]]; then
  html_args=(--to html --output-dir "$SITE_OUT" "${TEMPLATE_ARGS[@]}" --template hvsim-lean)
  # Shared assets, one copy per site: plotly.js and the notebook stylesheet.
  cp node_modules/plotly.js-dist-min/plotly.min.js "$SITE_OUT/plotly.min.js"
  "$JUPYTER" nbconvert --to html "${TEMPLATE_ARGS[@]}" --template hvsim-css --output-dir "$SITE_OUT" \
    --output hvsim-lab "$NB_OUT/${executed[0]}.ipynb" 2>/dev/null
  mv "$SITE_OUT/hvsim-lab.html" "$SITE_OUT/hvsim-lab.css"
  for name in "${executed[@]}"; do
    log "exporting HTML $name.html ..."
    t0="$(now)"
    if "$JUPYTER" nbconvert "${html_args[@]}" "$NB_OUT/$name.ipynb"; then
      if [[ $SINGLE == 1 ]]; then
        node -e '
          const fs = require("fs"); const [page, js, css] = process.argv.slice(1);
          let h = fs.readFileSync(page, "utf8");
          const jsSrc = fs.readFileSync(js, "utf8").replace(/<\/script/gi, "<\\/script");
          h = h.replace("<script src=\"plotly.min.js\"></script>", () => "<script>" + jsSrc + "\n</script>");
          h = h.replace("<link rel=\"stylesheet\" href=\"hvsim-lab.css\">", () => "<style>" + fs.readFileSync(css, "utf8") + "</style>");
          fs.writeFileSync(page, h);' "$SITE_OUT/$name.html" "$SITE_OUT/plotly.min.js" "$SITE_OUT/hvsim-lab.css"
      fi
      log "exported ${SITE_OUT#"$ROOT"/}/$name.html in $(elapsed "$t0") s ($(du -h "$SITE_OUT/$name.html" | cut -f1))"
    else
      failed+=("$name (html export)")
    fi
  done
  if [[ $SINGLE == 1 ]]; then rm -f "$SITE_OUT/plotly.min.js" "$SITE_OUT/hvsim-lab.css"; fi
  # A plain index of the site: every notebook page (title from its first heading) and the API
  # reference that `npm run docs` writes to api/.
  node -e '
    const fs = require("fs"), path = require("path"); const dir = process.argv[1];
    const esc = (s) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    const pages = fs.readdirSync(dir).filter((f) => f.endsWith(".html") && f !== "index.html").sort();
    const items = pages.map((f) => {
      const h = fs.readFileSync(path.join(dir, f), "utf8").match(/<h1[^>]*>([\s\S]*?)<\/h1>/);
      // the heading is HTML already: drop its tags and the pilcrow anchor, keep its entities
      const title = h ? h[1].replace(/<[^>]+>/g, "").replace(/&#182;|\u00b6/g, "").trim() : esc(f);
      return `<li><a href="${encodeURI(f)}">${title}</a> <small>(${esc(f)})</small></li>`;
    });
    fs.writeFileSync(path.join(dir, "index.html"), `<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>hvsim notebooks</title>` +
      `<style>body{font-family:system-ui,sans-serif;max-width:800px;margin:2em auto;padding:0 1em}li{margin:.4em 0}</style></head>` +
      `<body><h1>hvsim notebooks</h1><ul>${items.join("")}</ul><p><a href="api/index.html">API reference</a> (generated from the docstrings by <code>npm run docs</code>)</p></body></html>\n`);
  ' "$SITE_OUT"

  log "checking executed notebooks ..."
  check_files=()
  for name in "${executed[@]}"; do check_files+=("$NB_OUT/$name.ipynb"); done
  if ! node scripts/check-notebooks.mjs "${check_files[@]}"; then
    failed+=("check-notebooks")
  fi

  render=1
  if [[ ! -x /usr/bin/chromium || "${HVSIM_SKIP_HTML_CHECK:-0}" == 1 ]]; then
    render=0
    log "render check skipped ($([[ -x /usr/bin/chromium ]] && echo 'HVSIM_SKIP_HTML_CHECK=1' || echo 'no /usr/bin/chromium')); static page checks only"
  fi
  for name in "${executed[@]}"; do
    html="$SITE_OUT/$name.html"
    [[ -f "$html" ]] || continue
    n_fig="$(node scripts/check-notebooks.mjs --count-figures "$NB_OUT/$name.ipynb")"
    check_args=("$html" --expect "$n_fig")
    [[ $SINGLE == 1 ]] && check_args+=(--single-file)
    if [[ $render == 1 ]]; then
      log "render check $name.html (expect $n_fig figures) ..."
      check_args+=(--png "$SHOT_OUT/$name.png")
    else
      check_args+=(--static-only)
    fi
    if ! node scripts/check-html.mjs "${check_args[@]}"; then
      failed+=("$name (page check)")
    fi
  done
fi

log "summary:"
for line in "${summary[@]}"; do log "  $line"; done
log "total $(elapsed "$t_all") s"
if [[ ${#failed[@]} -gt 0 ]]; then
  log "FAILED: ${failed[*]}"
  exit 1
fi
log "all ${#notebooks[@]} notebook(s) OK"

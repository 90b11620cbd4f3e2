#!/usr/bin/python3
"""Execute one notebook headlessly with the tslab kernel and always write the executed copy.

Why not `jupyter nbconvert --execute`:
  - tslab sends no `error` output when a cell throws, only stderr text and `status: error`, so
    nbconvert's CellExecutionError reads `<Error>:` with an empty message, and no executed
    notebook (hence no page) is written;
  - nbconvert leaves `execution_count` null (tslab sends no `execute_input`), so the pages show
    `In [ ]:`.

This script (Debian's python3-nbclient 0.7, the same machinery nbconvert uses) runs the code
cells one by one with execution counts 1, 2, ... and stops at the first failing cell:
  - the failing cell's stderr becomes a proper `error` output: the error's name and message
    and a short stack (tslab's and node's own frames dropped), so the page shows it;
  - every later code cell gets one stderr line "not run: execution stopped at the error in
    cell N" instead of running empty;
  - the executed notebook is written in every case and the error is printed to stderr (the run
    log) with the cell number, its id and its first source line;
  - exit status 0 on success, 1 on a failing cell, 2 on bad usage.

Usage: /usr/bin/python3 nbconvert/execute.py NOTEBOOK.ipynb --output OUT.ipynb
                                             [--timeout S] [--kernel tslab]
The kernel's cwd is the notebook's folder; the caller's environment reaches the kernel.
"""
import argparse
import os
import re
import sys

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

# Stack frames of the kernel's own machinery, not of the notebook or of hvsim.
NOISE_FRAME = re.compile(r"node:(vm|internal)|[\\/]tslab[\\/]dist[\\/]|sigintHandlersWrap|processTicksAndRejections")
# "Error: msg", "SpecError: msg", "TypeError [ERR_X]: msg", "Uncaught 'x'"
ERROR_LINE = re.compile(r"^(?:Uncaught )?([A-Za-z_$][\w$]*(?:Error|Exception)|Error)(?: \[[\w]+\])?: ?(.*)$")
MAX_STACK = 8


def text_of(x):
    return "".join(x) if isinstance(x, list) else (x or "")


# The repository root: frames in its files are shown relative to it, so that a published page
# carries no absolute file:// path of the machine that built it.
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FILE_URL = re.compile(r"file://(/[^\s:()]+)")


def relative_frame(line):
    def rel(m):
        path = m.group(1)
        return os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else os.path.basename(path)
    return FILE_URL.sub(rel, line)


def parse_error(stderr):
    """(ename, evalue, stack lines) from tslab's stderr text for a failing cell."""
    lines = stderr.rstrip("\n").split("\n")
    for i, line in enumerate(lines):
        m = ERROR_LINE.match(line)
        if not m:
            continue
        ename, first = m.group(1), m.group(2)
        msg = [first]
        j = i + 1
        while j < len(lines) and not lines[j].startswith("    at "):
            msg.append(lines[j])
            j += 1
        stack = [relative_frame(l) for l in lines[j:] if l.startswith("    at ") and not NOISE_FRAME.search(l)]
        return ename, "\n".join(msg).strip(), stack[:MAX_STACK]
    # No "Name: message" line: a type error from tslab's compiler ("2:7 - Cannot find name 'x'."),
    # a thrown non-Error, or a timeout. The whole text is the message.
    body = "\n".join(l for l in lines if l.strip() and not NOISE_FRAME.search(l))
    if re.search(r"^\d+:\d+ - ", body, re.M):
        return "TypeScriptError", body.strip(), []
    return "Error", body.strip() or "(the kernel reported an error without a message)", []


def first_line(src):
    for line in text_of(src).split("\n"):
        if line.strip():
            return line.strip()[:100]
    return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("notebook")
    ap.add_argument("--output", required=True)
    ap.add_argument("--timeout", type=int, default=1800, help="per-cell timeout in seconds")
    ap.add_argument("--kernel", default="tslab")
    args = ap.parse_args()

    path = os.path.abspath(args.notebook)
    name = os.path.basename(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        kernel_name=args.kernel,
        timeout=args.timeout,
        startup_timeout=60,
        record_timing=False,
        allow_errors=False,
        resources={"metadata": {"path": os.path.dirname(path)}},
    )

    failed = None  # (cell number, In [k], message for the log)
    count = 0
    with client.setup_kernel():
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if failed is not None:
                cell.outputs = [nbformat.v4.new_output(
                    "stream", name="stderr",
                    text=f"not run: execution stopped at the error in cell {failed[0]} (In [{failed[1]}]) above\n")]
                cell.execution_count = None
                continue
            count += 1
            try:
                client.execute_cell(cell, index, execution_count=count)
            except (CellExecutionError, CellTimeoutError, DeadKernelError) as e:
                cell = nb.cells[index]
                cell.execution_count = count
                stderr = "".join(text_of(o.get("text")) for o in cell.get("outputs", [])
                                 if o.get("output_type") == "stream" and o.get("name") == "stderr")
                if isinstance(e, CellTimeoutError):
                    ename, evalue, stack = "TimeoutError", f"the cell did not finish within {args.timeout} s", []
                elif isinstance(e, DeadKernelError):
                    ename, evalue, stack = "DeadKernelError", "the kernel died while running this cell", []
                else:
                    ename, evalue, stack = parse_error(stderr)
                where = f"cell {index + 1}{' (id ' + cell.get('id') + ')' if cell.get('id') else ''}"
                traceback = [f"{ename}: {evalue}", *stack,
                             f"(in {where} of {name}, In [{count}]; execution stopped here)"]
                # Keep what the cell displayed before failing; the raw stderr (compiled-JS
                # excerpt, kernel frames) is replaced by the readable error.
                kept = [o for o in cell.get("outputs", [])
                        if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
                kept.append(nbformat.v4.new_output("error", ename=ename, evalue=evalue, traceback=traceback))
                cell.outputs = kept
                failed = (index + 1, count, where)
                print(f"[execute] FAILED {name} {where}, In [{count}] `{first_line(cell.source)}`:", file=sys.stderr)
                for line in "\n".join(traceback[:-1]).split("\n"):
                    print(line if line.startswith("    ") else f"    {line}", file=sys.stderr)

    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    nbformat.write(nb, args.output)
    if failed is not None:
        skipped = sum(1 for c in nb.cells[failed[0]:] if c.cell_type == "code")
        print(f"[execute] {name}: stopped at {failed[2]}; {skipped} later code cell(s) not run; "
              f"wrote {args.output}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

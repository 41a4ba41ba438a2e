"""Run the lessons headless, in order, and write executed notebooks and HTML to build/ (`make course`)."""

from __future__ import annotations

import os
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lesson_paths(folder: Path | None = None) -> list[Path]:
    """The lesson notebooks in order (NN_name.ipynb)."""
    return sorted((folder or ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def count_figures(notebook, html: str) -> tuple[int, int]:
    """(figures the executed notebook drew, figures its HTML export shows)."""
    drawn = sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
                for output in cell.outputs)
    return drawn, html.count('class="jp-RenderedImage jp-OutputArea-output"')


def drop_widget_outputs(notebook) -> int:
    """Remove progress-bar widgets: headless they keep only their first frame ("0%"). Returns how many."""
    removed = 0
    for cell in notebook.cells:
        if cell.cell_type == "code":
            kept = [o for o in cell.outputs if "application/vnd.jupyter.widget-view+json" not in o.get("data", {})]
            removed += len(cell.outputs) - len(kept)
            cell.outputs = kept
    notebook.metadata.pop("widgets", None)
    return removed


def run_lesson(path: Path, out_dir: Path, timeout: int = 1800) -> tuple[str, float, int]:
    """Execute one notebook in its own folder; save the executed copy and HTML. Returns (status, minutes, figures)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from nbconvert import HTMLExporter

    notebook = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    status = "ok"
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as err:
        status = f"FAILED: {str(err).strip().splitlines()[-1][:80]}"
    minutes = (time.perf_counter() - started) / 60
    drop_widget_outputs(notebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out_dir / path.name)
    html, _ = HTMLExporter().from_notebook_node(notebook)
    (out_dir / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
    drawn, shown = count_figures(notebook, html)
    if status == "ok" and drawn != shown:
        status = f"FAILED: {drawn} figures drawn, {shown} in the HTML"
    return status, minutes, drawn


def run_course(out_dir: Path | None = None, only: list[str] | None = None) -> int:
    """Run every lesson; print a table of lesson, status and minutes. Returns the number of failures."""
    out_dir = out_dir or ROOT / "build"
    os.environ.setdefault("ALPACA_COURSE_WORKSPACE", str(ROOT / "workspace"))
    rows, failures, total = [], 0, 0.0
    for path in lesson_paths():
        if only and not any(path.name.startswith(o) for o in only):
            continue
        print(f"running {path.name} ...", flush=True)
        status, minutes, figures = run_lesson(path, out_dir)
        rows.append((path.stem, status, minutes, figures))
        failures += status != "ok"
        total += minutes
        print(f"  {status} in {minutes:.1f} min, {figures} figures", flush=True)
    print("\n| lesson | status | minutes | figures (all in the HTML) |\n|---|---|---|---|")
    for name, status, minutes, figures in rows:
        print(f"| {name} | {status} | {minutes:.1f} | {figures} |")
    print(f"| total | {len(rows) - failures}/{len(rows)} ok | {total:.1f} | {sum(r[3] for r in rows)} |")
    print(f"\nExecuted notebooks and HTML: {out_dir}")
    return failures

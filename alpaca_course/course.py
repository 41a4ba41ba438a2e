"""Run the lessons headless, in order, and write executed notebooks and HTML to build/ (`make course`)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def lesson_paths(folder: Path | None = None) -> list[Path]:
    """The lesson notebooks in order (NN_name.ipynb)."""
    return sorted((folder or ROOT / "lessons").glob("[0-9][0-9]_*.ipynb"))


def figure_outputs(notebook) -> list:
    """Every PNG output of the notebook's code cells, in order."""
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs
            if "image/png" in output.get("data", {})]


def figure_alt(output) -> str:
    """The alt text a figure output carries ('' if none): plots.show stores it in the output's metadata."""
    return str(output.get("metadata", {}).get("image/png", {}).get("alt", "") or "").strip()


# nbconvert's lab template writes no alt text for a PNG (then warns and puts a placeholder); ours writes the output's.
FIGURE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{% block data_png scoped %}
<div class="jp-RenderedImage jp-OutputArea-output {{ extra_class }}">
<img alt="{{ output | get_metadata('alt', 'image/png') | default('', true) | escape_html }}"
src="data:image/png;base64,{{ output.data['image/png'] | escape_html }}">
</div>
{% endblock data_png %}
"""


def html_exporter():
    """nbconvert's HTML exporter (lab template), with each figure's alt text from its output's metadata."""
    from jinja2 import DictLoader
    from nbconvert import HTMLExporter

    return HTMLExporter(extra_loaders=[DictLoader({"figures.html.j2": FIGURE_TEMPLATE})], template_file="figures.html.j2")


def count_figures(notebook, html: str) -> tuple[int, int]:
    """(figures the executed notebook drew, figures its HTML export shows)."""
    return len(figure_outputs(notebook)), html.count('class="jp-RenderedImage jp-OutputArea-output"')


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


# Run last in each kernel: the largest resident memory the kernel (or a process it waited for) ever held.
PEAK_PROBE = "from alpaca_course.memory import peak_memory_mb as _peak\nprint('peak-mb', _peak(children=True))"


def read_peak_mb(cell) -> float | None:
    """The probe cell's answer in MB (None if it did not run: an earlier cell failed)."""
    for output in cell.get("outputs", []):
        if output.get("name") == "stdout" and output.get("text", "").startswith("peak-mb "):
            return float(output["text"].split()[1])
    return None


def run_lesson(path: Path, out_dir: Path, timeout: int = 1800) -> tuple[str, float, int, float | None]:
    """Execute one notebook in its own folder; save the executed copy and HTML.

    Returns (status, minutes, figures, peak MB of the lesson's kernel or None)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    notebook = nbformat.read(path, as_version=4)
    probe = nbformat.v4.new_code_cell(PEAK_PROBE)
    notebook.cells.append(probe)
    started = time.perf_counter()
    status = "ok"
    try:
        NotebookClient(notebook, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    except CellExecutionError as err:
        status = f"FAILED: {str(err).strip().splitlines()[-1][:80]}"
    minutes = (time.perf_counter() - started) / 60
    peak_mb = read_peak_mb(notebook.cells.pop())
    drop_widget_outputs(notebook)
    out_dir.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out_dir / path.name)
    html, _ = html_exporter().from_notebook_node(notebook)
    (out_dir / path.with_suffix(".html").name).write_text(html, encoding="utf-8")
    drawn, shown = count_figures(notebook, html)
    without_alt = sum(not figure_alt(o) for o in figure_outputs(notebook))
    if status == "ok" and drawn != shown:
        status = f"FAILED: {drawn} figures drawn, {shown} in the HTML"
    elif status == "ok" and without_alt:
        status = f"FAILED: {without_alt} of {drawn} figures have no alt text (draw them with plots.show)"
    return status, minutes, drawn, peak_mb


def format_mb(mb: float | None) -> str:
    """A peak for the table: '3,812 MB', or 'not measured'."""
    return "not measured" if mb is None else f"{mb:,.0f} MB"


def run_course(out_dir: Path | None = None, only: list[str] | None = None) -> int:
    """Run every lesson; print a table of lesson, status, minutes and peak memory. Returns the number of failures."""
    out_dir = out_dir or ROOT / "build"
    os.environ.setdefault("ALPACA_COURSE_WORKSPACE", str(ROOT / "workspace"))
    rows, failures, total = [], 0, 0.0
    for path in lesson_paths():
        if only and not any(path.name.startswith(o) for o in only):
            continue
        print(f"running {path.name} ...", flush=True)
        status, minutes, figures, peak_mb = run_lesson(path, out_dir)
        rows.append((path.stem, status, minutes, figures, peak_mb))
        failures += status != "ok"
        total += minutes
        print(f"  {status} in {minutes:.1f} min, {figures} figures, peak {format_mb(peak_mb)}", flush=True)
    print("\n| lesson | status | minutes | figures (all in the HTML) | peak memory |\n|---|---|---|---|---|")
    for name, status, minutes, figures, peak_mb in rows:
        print(f"| {name} | {status} | {minutes:.1f} | {figures} | {format_mb(peak_mb)} |")
    peaks = [r[4] for r in rows if r[4] is not None]
    print(f"| total | {len(rows) - failures}/{len(rows)} ok | {total:.1f} | {sum(r[3] for r in rows)} | "
          f"{format_mb(max(peaks) if peaks else None)} |")
    write_run_record(out_dir / "course_run.json", rows)
    print(f"\nExecuted notebooks and HTML: {out_dir}; times and peaks: {out_dir / 'course_run.json'}")
    return failures


def write_run_record(path: Path, rows: list[tuple]) -> None:
    """Minutes and peak memory per lesson, with the date, commit and machine: what the class kit is written from."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                                timeout=10).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        commit = "unknown"
    from .profiles import get_profile

    record = {"date": time.strftime("%Y-%m-%d"), "commit": commit,
              "machine": f"{os.cpu_count()} CPU cores, {platform.machine()}", "profile": get_profile().name,
              "lessons": {name: {"minutes": round(minutes, 1), "peak_mb": None if peak is None else round(peak),
                                 "status": status} for name, status, minutes, _, peak in rows}}
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")

"""The course runner executes a notebook headless, writes HTML and checks every figure reached it."""

import re

import nbformat

from alpaca_course.course import count_figures, lesson_paths, run_lesson


def test_lessons_are_found_in_order():
    assert [p.name[:2] for p in lesson_paths()] == [f"{i:02d}" for i in range(8)]


def test_run_lesson_writes_html_with_every_figure(tmp_path):
    source = tmp_path / "lessons" / "99_demo.ipynb"
    source.parent.mkdir()
    cells = [nbformat.v4.new_code_cell("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                                       "%matplotlib inline\nfrom alpaca_course.plots import show\n"
                                       "fig, ax = plt.subplots(); ax.plot([1, 3, 2])\nshow(fig, alt='a line up then down')\n"
                                       "print('done')")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), source)
    status, minutes, figures, peak_mb = run_lesson(source, tmp_path / "build")
    assert status == "ok" and figures == 1 and minutes >= 0
    assert 10 < peak_mb < 4096  # a kernel that imported matplotlib holds tens of MB
    saved = nbformat.read(tmp_path / "build" / "99_demo.ipynb", as_version=4)
    assert len(saved.cells) == 1  # the memory probe is not saved
    html = (tmp_path / "build" / "99_demo.html").read_text()
    assert count_figures(nbformat.read(tmp_path / "build" / "99_demo.ipynb", as_version=4), html) == (1, 1)
    assert re.search(r'<img alt="a line up then down"[^>]*src="data:image/png;base64,', html)  # the export keeps it
    assert "No description has been provided" not in html


def test_a_figure_without_alt_text_fails_the_lesson(tmp_path):
    source = tmp_path / "96_no_alt.ipynb"
    code = "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n%matplotlib inline\nplt.plot([1, 2]); plt.show()"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), source)
    status, _, figures, _ = run_lesson(source, tmp_path / "build")
    assert figures == 1 and status.startswith("FAILED") and "alt text" in status


def test_show_refuses_a_figure_without_words():
    import matplotlib
    import pytest

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from alpaca_course.plots import show

    with pytest.raises(ValueError, match="alt text"):
        show(plt.subplots()[0], alt="  ")


def test_a_failing_cell_is_reported_not_raised(tmp_path):
    source = tmp_path / "98_broken.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), source)
    status, _, _, peak_mb = run_lesson(source, tmp_path / "build")
    assert status.startswith("FAILED") and "ZeroDivisionError" in status and peak_mb is None


def test_progress_widgets_are_dropped_from_the_saved_copy():
    from alpaca_course.course import drop_widget_outputs

    widget = nbformat.v4.new_output("display_data", data={
        "application/vnd.jupyter.widget-view+json": {"model_id": "x", "version_major": 2, "version_minor": 0},
        "text/plain": "generating:   0%|          | 0/200"})
    text = nbformat.v4.new_output("stream", name="stdout", text="200 records\n")
    cell = nbformat.v4.new_code_cell("generate()", outputs=[widget, text])
    notebook = nbformat.v4.new_notebook(cells=[cell])
    assert drop_widget_outputs(notebook) == 1 and notebook.cells[0].outputs == [text]


def test_the_peak_probe_reads_what_the_kernel_held(tmp_path):
    source = tmp_path / "97_memory.ipynb"
    hold = "import numpy as np\nblock = np.ones(300 * 2**20 // 8)  # 300 MB, touched"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(hold)]), source)
    status, _, _, peak_mb = run_lesson(source, tmp_path / "build")
    assert status == "ok" and 300 < peak_mb < 1500

"""The course runner executes a notebook headless, writes HTML and checks every figure reached it."""

import nbformat

from alpaca_course.course import count_figures, lesson_paths, run_lesson


def test_lessons_are_found_in_order():
    assert [p.name[:2] for p in lesson_paths()] == [f"{i:02d}" for i in range(8)]


def test_run_lesson_writes_html_with_every_figure(tmp_path):
    source = tmp_path / "lessons" / "99_demo.ipynb"
    source.parent.mkdir()
    cells = [nbformat.v4.new_code_cell("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
                                       "%matplotlib inline\nplt.plot([1, 3, 2]); plt.show()\nprint('done')")]
    nbformat.write(nbformat.v4.new_notebook(cells=cells), source)
    status, minutes, figures = run_lesson(source, tmp_path / "build")
    assert status == "ok" and figures == 1 and minutes >= 0
    html = (tmp_path / "build" / "99_demo.html").read_text()
    assert count_figures(nbformat.read(tmp_path / "build" / "99_demo.ipynb", as_version=4), html) == (1, 1)


def test_a_failing_cell_is_reported_not_raised(tmp_path):
    source = tmp_path / "98_broken.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 / 0")]), source)
    status, _, _ = run_lesson(source, tmp_path / "build")
    assert status.startswith("FAILED") and "ZeroDivisionError" in status

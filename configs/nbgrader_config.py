"""nbgrader settings for Alpaca Course: copy this file into your nbgrader course folder (next to source/).

`make test` grades lessons 01 and 02 with exactly this file (tests/test_grading.py).
"""

c = get_config()  # noqa: F821 (nbgrader provides get_config)
c.CourseDirectory.course_id = "alpaca-course"
# The course's stub does not raise, so "Run all" reaches every check; the hidden tests still give 0 points.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\n..."}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# nbgrader stops a cell after 30 s by default. Exercise cells that train or sample take minutes on a CPU: the
# longest lesson (04) takes 10.5 min of computing in all on 2 cores (INSTRUCTORS.md's table), so no single cell
# of it comes near 30 min. tests/test_grading.py checks this limit against that table.
c.Execute.timeout = 1800

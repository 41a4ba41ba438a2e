"""Sphinx configuration of the web book (`make book`; tools/book.py copies this file into the book's source).

Sphinx with MyST-NB renders the notebooks with the outputs they already have (nothing is executed here), and the
Markdown files (README as the home page, INSTRUCTORS, GLOSSARY) with the same relative links they use on GitHub.
"""

import base64
import hashlib
import json
from pathlib import Path

project = "Alpaca Course"
author = "Alpaca Course contributors"
root_doc = "README"  # the README's course map is the home page
extensions = ["myst_nb"]
nb_execution_mode = "off"  # the outputs come from `make course`; the book never runs a cell
nb_output_stderr = "remove"  # library warnings and progress bars, not lesson content
myst_heading_anchors = 3  # `[text](GLOSSARY.md#wilson-interval)` links resolve to headings
myst_enable_extensions = ["dollarmath", "colon_fence"]
exclude_patterns = ["_build", "**.ipynb_checkpoints"]
html_theme = "sphinx_book_theme"
html_title = "Alpaca Course"
html_favicon = "favicon.svg"
html_theme_options = {"show_toc_level": 2, "use_download_button": False, "use_fullscreen_button": False}
html_context = {"default_mode": "light"}  # without it the theme logs "invalid theme mode" as a console error
html_static_path = ["_static"]
# MathJax from a wheel (tools/book.py copies it to _static/mathjax), not a CDN: formulas render offline too.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full"
mathjax2_config = {"HTML-CSS": {"availableFonts": ["STIX-Web"], "preferredFont": "STIX-Web", "webFont": "STIX-Web",
                                "imageFont": None}}  # the one font that wheel ships
suppress_warnings = ["mystnb.unknown_mime_type"]


def figure_alt_texts(source: Path) -> dict[str, str]:
    """sha256 of each figure's PNG bytes -> the alt text its output carries (MyST-NB names images by that hash)."""
    found = {}
    for path in source.rglob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                png = output.get("data", {}).get("image/png")
                alt = output.get("metadata", {}).get("image/png", {}).get("alt")
                if png and alt:
                    data = png if isinstance(png, str) else "".join(png)
                    found[hashlib.sha256(base64.b64decode(data)).hexdigest()] = alt
    return found


def give_figures_their_alt_text(app, doctree) -> None:
    """MyST-NB keeps only width and height from an output's metadata; put the figure's alt text on its image."""
    from docutils import nodes

    if not hasattr(app, "figure_alt"):
        app.figure_alt = figure_alt_texts(Path(app.srcdir))
    for image in doctree.findall(nodes.image):
        digest = Path(image.get("uri", "")).stem
        if digest in app.figure_alt and not image.get("alt"):
            image["alt"] = app.figure_alt[digest]


def setup(app):
    app.connect("doctree-read", give_figures_their_alt_text)

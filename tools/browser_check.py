"""Open every page of a built book in headless Chromium, as a reader's browser would, and report what is wrong.

    python tools/browser_check.py build/book/html --screenshots build/book/screenshots

Checks each page for console errors, every image for a loaded picture (natural width above 0) and alt text, and
every link inside the book for a page (and heading) that exists. Chromium and its driver come from the system
packages (`apt-get install chromium chromium-driver`, which `make browser` runs); Selenium drives them.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import shutil
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

#: Pages to photograph: (file name under the screenshots folder, page of the book, scroll to its first figure?).
SCREENSHOTS = (("home.png", "index.html", False), ("lesson_05.png", "lessons/05_evaluation.html", True))

IMAGES = """
const images = [...document.images];
images.forEach(i => i.loading = 'eager');
const done = arguments[arguments.length - 1];
Promise.all(images.map(i => i.decode().then(() => true, () => false))).then(() => done(images.map(i => ({
    src: i.getAttribute('src').slice(0, 80), width: i.naturalWidth, alt: (i.getAttribute('alt') || '').trim()}))));
"""
PAGE = """return {ids: [...document.querySelectorAll('[id], a[name]')].map(e => e.id || e.name),
               links: [...document.querySelectorAll('a[href]')].map(a => a.href)};"""


class BrowserMissing(Exception):
    """No Chromium (or no chromedriver) on this machine."""


@dataclass
class BookCheck:
    """What the browser saw: pages opened, images and links checked, and every problem found."""

    pages: int = 0
    images: int = 0
    links: int = 0
    problems: list[str] = field(default_factory=list)
    screenshots: list[Path] = field(default_factory=list)


def find_browser() -> tuple[str, str]:
    """(chromium, chromedriver) paths, or BrowserMissing saying how to install them."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        raise BrowserMissing("Chromium or chromedriver is missing: `make browser` installs them "
                             "(apt-get install chromium chromium-driver)")
    return chromium, driver


def serve(folder: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve a folder on a free local port, as GitHub Pages would serve the book. Returns (server, base URL)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def open_browser(chromium: str, driver: str):
    """Headless Chromium under Selenium, with the browser console kept."""
    import os

    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must not look for drivers online: we give both
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,900",
                "--no-first-run", "--disable-extensions"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    browser = webdriver.Chrome(service=Service(driver), options=options)
    browser.set_script_timeout(30)
    browser.set_page_load_timeout(60)
    return browser


def check_book(html: Path, screenshots: Path | None = None) -> BookCheck:
    """Open every HTML page under `html` in headless Chromium and check it (see the module docstring)."""
    chromium, driver = find_browser()
    pages = sorted(p.relative_to(html).as_posix() for p in html.rglob("*.html") if "_static" not in p.parts)
    server, base = serve(html)
    browser = open_browser(chromium, driver)
    result, seen_ids, links = BookCheck(), {}, []
    try:
        for page in pages:
            browser.get(base + page)
            for entry in browser.get_log("browser"):
                if entry.get("level") == "SEVERE":
                    result.problems.append(f"{page}: console error: {entry.get('message', '')[:200]}")
            for image in browser.execute_async_script(IMAGES):
                result.images += 1
                if image["width"] <= 0:
                    result.problems.append(f"{page}: image did not load: {image['src']}")
                if not image["alt"]:
                    result.problems.append(f"{page}: image without alt text: {image['src']}")
            found = browser.execute_script(PAGE)
            seen_ids[page] = set(found["ids"])
            links += [(page, href) for href in found["links"]]
            result.pages += 1
        if screenshots:
            screenshots.mkdir(parents=True, exist_ok=True)
            for name, page, to_figure in SCREENSHOTS:
                if page in seen_ids:
                    browser.get(base + page)
                    if to_figure:  # the lesson's first figure and the text around it, not only its title
                        browser.execute_script("const f = document.querySelector('main img'); "
                                               "if (f) f.scrollIntoView({block: 'center'});")
                    browser.save_screenshot(str(screenshots / name))
                    result.screenshots.append(screenshots / name)
                else:
                    result.problems.append(f"no page {page} to photograph")
    finally:
        browser.quit()
        server.shutdown()
    for page, href in links:
        if not href.startswith(base):
            continue  # a link out of the book (GitHub, Colab, papers): not ours to load offline
        result.links += 1
        url, fragment = urldefrag(href)
        target = unquote(urlparse(url).path).lstrip("/") or "index.html"
        target = target + "index.html" if target.endswith("/") else target
        if not (html / target).is_file():
            result.problems.append(f"{page}: broken link to {target}")
        elif fragment and target in seen_ids and unquote(fragment) not in seen_ids[target]:
            result.problems.append(f"{page}: link to a missing heading {target}#{fragment}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("html", type=Path, help="the built book's HTML folder (build/book/html)")
    parser.add_argument("--screenshots", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        result = check_book(args.html, args.screenshots)
    except BrowserMissing as err:
        print(f"browser check: {err}", file=sys.stderr)
        return 2
    for problem in result.problems:
        print(problem)
    print(f"{result.pages} pages, {result.images} images, {result.links} links inside the book: "
          f"{len(result.problems)} problems; screenshots: {', '.join(map(str, result.screenshots)) or 'none'}")
    return 1 if result.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

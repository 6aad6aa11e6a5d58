"""Headless Chromium for the browser tests: where it is, the mark that skips a test without it, a driver at the
width people use (1280 px), and what a test asks of a page (is this element in view; a screenshot of it)."""

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
WIDTH, HEIGHT = 1280, 1000

needs_chromium = pytest.mark.skipif(
    not (CHROMIUM and CHROMEDRIVER),
    reason="Chromium and chromedriver are not installed (Debian: apt-get install chromium chromium-driver)",
)

CHROME_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    f"--window-size={WIDTH},{HEIGHT}",
]

# True when the element is inside the window and not clipped by a scrolling ancestor (the admin's result list
# scrolls sideways inside its own box, so "in the window" alone would pass a column hidden behind its scrollbar).
_IN_VIEW = """
const element = arguments[0];
const box = element.getBoundingClientRect();
if (box.width === 0 || box.height === 0) return false;
if (box.left < 0 || box.top < 0 || box.right > window.innerWidth || box.bottom > window.innerHeight) return false;
for (let parent = element.parentElement; parent; parent = parent.parentElement) {
  if (!/(auto|scroll|hidden|clip)/.test(getComputedStyle(parent).overflowX)) continue;
  const frame = parent.getBoundingClientRect();
  if (box.left < frame.left - 0.5 || box.right > frame.right + 0.5) return false;
}
return true;
"""


@contextlib.contextmanager
def chromium(profile_parent: Path) -> Iterator:
    """A headless Chromium of WIDTH x HEIGHT with a fresh profile, driven by Debian's chromedriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    with tempfile.TemporaryDirectory(dir=profile_parent) as profile:
        options.add_argument(f"--user-data-dir={profile}")
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)  # no Selenium Manager download
        driver.implicitly_wait(5)
        try:
            yield driver
        finally:
            driver.quit()


def in_view(driver, element) -> bool:
    return bool(driver.execute_script(_IN_VIEW, element))


def screenshot(driver, directory: Path, name: str) -> Path:
    """The window as it is now, saved as `<directory>/<name>.png` (the window is 1280 px wide)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{name}.png"
    assert driver.save_screenshot(str(path)), f"no screenshot saved at {path}"
    assert driver.execute_script("return window.innerWidth") == WIDTH
    return path

"""report.html in a real headless browser (Debian's chromium): no console errors, every image renders.

Chromium missing is a failure, not a skip: the README's test command must test the page.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.report_run import make_tiny_run


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    return make_tiny_run(tmp_path_factory)


def chromium_driver():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    driver_path = shutil.which("chromedriver")
    if not binary or not driver_path:
        pytest.fail("chromium and chromedriver are needed for this test (Debian: apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(driver_path), options=options)


def test_the_report_loads_without_console_errors_and_every_image_renders(tiny_run: Path) -> None:
    driver = chromium_driver()
    try:
        driver.get((tiny_run / "report.html").resolve().as_uri())
        images = driver.execute_script(
            "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth, i.getBoundingClientRect().width, i.getBoundingClientRect().height]);")
        severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
        title = driver.title
    finally:
        driver.quit()
    assert title.startswith("Search run tiny")
    assert len(images) >= 5
    for alt, complete, natural_width, width, height in images:
        assert complete and natural_width > 0 and width > 0 and height > 0, alt
    assert not severe, severe

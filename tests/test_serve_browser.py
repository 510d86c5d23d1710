"""``archspec serve`` in a real browser: Debian's headless Chromium driven by Selenium.

Opens the page, checks the diagram and the table, edits the spec on disk and waits for the
page to show the change by itself, clicks a node and checks its row and source lines light
up, breaks the spec and checks the errors appear with the diagram up to them. With
``ARCHSPEC_UPDATE_GOLDEN=1`` it also saves the screenshot in ``docs/serve.png``.

Skips only where Chromium is not installed (``make setup`` installs ``chromium`` and
``chromium-driver`` with apt-get where it can); Selenium is a dev dependency.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from archspec.serve import Running, start

ROOT = Path(__file__).parent.parent
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
pytestmark = [
    pytest.mark.skipif(CHROMIUM is None or DRIVER is None, reason="Debian's chromium and chromium-driver are absent"),
    pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed"),
]
SCREENSHOT = ROOT / "docs" / "serve.png"


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM or ""
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1500,900"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=DRIVER or ""), options=options)
    yield driver
    driver.quit()


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Running, Path]]:
    spec = tmp_path / "resnet18.yaml"
    spec.write_text((ROOT / "specs" / "resnet18.yaml").read_text())
    running = start([spec], port=0)
    yield running, spec
    running.stop()


def wait(what: str, check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll ``check`` until it returns something true; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            found = check()
        except Exception:  # an element replaced while we read it: try again
            found = None
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"the page did not show {what} within {timeout} s")
        time.sleep(0.05)


def save(path: Path, text: str) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(text)
    os.replace(temporary, path)


def rows(browser: Any) -> dict[str, list[str]]:
    script = """return [...document.querySelectorAll('#summary tbody tr')]
        .map(tr => [...tr.children].map(td => td.textContent));"""
    return {cells[0]: cells for cells in browser.execute_script(script)}


def test_live_preview_in_chromium(browser: Any, served: tuple[Running, Path]) -> None:
    from selenium.webdriver.common.by import By

    running, spec = served
    text = spec.read_text()
    browser.get(running.url)

    # the diagram and the table
    wait("version 1", lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-version") == "1")
    assert browser.find_element(By.ID, "title").text == "resnet18"
    assert browser.find_element(By.ID, "badge").text == "valid"
    boxes = browser.execute_script(
        "return [...document.querySelectorAll('#diagram svg g.node')].map(g => g.dataset.box)"
    )
    assert {"conv1", "layer1", "layer4", "fc", "_input", "_output"} <= set(boxes)
    table = rows(browser)
    assert len(table) == 69
    assert table["fc"][1:5] == ["Linear", "512->1000", "[1000]", "513,000"]
    assert "11,689,512" in browser.find_element(By.CSS_SELECTOR, "#summary tfoot").text

    # an edit on disk appears by itself
    saved = time.monotonic()
    save(spec, text.replace("num_classes: 1000", "num_classes: 10"))
    wait("the edited output [10]", lambda: rows(browser)["fc"][3] == "[10]")
    update_seconds = time.monotonic() - saved
    assert browser.find_element(By.TAG_NAME, "body").get_attribute("data-version") == "2"
    print(f"edit on disk -> page updated in {update_seconds:.2f} s")

    # a click on a node highlights its row and its source lines
    node = browser.find_element(By.CSS_SELECTOR, '#diagram g.node[data-box="fc"]')
    node.click()
    assert "selected" in node.get_attribute("class")
    selected_rows = browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr.selected")
    assert [row.get_attribute("data-id") for row in selected_rows] == ["fc"]
    fc_line = next(i for i, line in enumerate(text.splitlines(), 1) if "id: fc," in line)
    selected_lines = browser.find_elements(By.CSS_SELECTOR, "#source .line.selected")
    assert [line.get_attribute("data-line") for line in selected_lines] == [str(fc_line)]
    folded = browser.find_element(By.CSS_SELECTOR, '#diagram g.node[data-box="layer2"]')
    folded.click()
    selected_rows = browser.find_elements(By.CSS_SELECTOR, "#summary tbody tr.selected")
    assert len(selected_rows) == 16 and all(r.get_attribute("data-id").startswith("layer2.") for r in selected_rows)
    if os.environ.get("ARCHSPEC_UPDATE_GOLDEN") == "1":
        browser.save_screenshot(str(SCREENSHOT))

    # a shape error: the errors, and the diagram up to them
    save(spec, text.replace("{id: flatten, type: Flatten}", "{id: flatten, type: Flatten, start_dim: 5}"))
    wait("the error badge", lambda: browser.find_element(By.ID, "badge").text == "1 error")
    diagnostics = browser.find_element(By.ID, "diagnostics").text
    assert "error[" in diagnostics and "start_dim" in diagnostics
    boxes = browser.execute_script(
        "return [...document.querySelectorAll('#diagram svg g.node')].map(g => g.dataset.box)"
    )
    assert {"conv1", "layer4", "flatten"} <= set(boxes)
    assert browser.find_elements(By.CSS_SELECTOR, "#source .line.error-line")

    # a spec that does not load: its errors, and the last diagram greyed out
    save(spec, text.replace("layers:\n  - {id: conv1", "layers:\n  - {id: conv1: ["))
    wait("version 4", lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-version") == "4")
    assert "error[yaml-syntax]" in browser.find_element(By.ID, "diagnostics").text
    assert "stale" in browser.find_element(By.ID, "diagram").get_attribute("class")
    assert browser.find_elements(By.CSS_SELECTOR, "#diagram svg g.node"), "never a blank page"
    assert "last diagram" in browser.find_element(By.ID, "note").text

    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == [], severe

"""The dashboard in a real headless Chromium (selenium + Debian's chromedriver) against the real
`omniclaude dashboard` command over the seeded scenario. Screenshots of every page are saved in the
test's temporary directory (see the `screenshots` fixture) for a person to look at."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import psycopg
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.harness import HarnessError
from tests.harness.browser import headless_chromium
from tests.omniclaude.report.scenario import Session, insert_hook_events

PAGES = {
    "overview": "/",
    "sessions": "/sessions",
    "session": "/sessions/sess-alpha",
    "tools": "/tools",
    "agents": "/agents",
    "projects": "/projects",
}


@pytest.fixture(scope="module")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the screenshots go: <pytest tmp>/screenshots*/<page>.png."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    try:
        driver = headless_chromium(tmp_path_factory.mktemp("chromium-profile"))
    except HarnessError as exc:
        pytest.fail(str(exc), pytrace=False)
    try:
        yield driver
    finally:
        driver.quit()


def _console_errors(driver: Any) -> list[str]:
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


@pytest.mark.parametrize("name", list(PAGES))
def test_every_page_renders_with_its_charts_and_no_console_error(
    browser: Any, dashboard_server: str, screenshots: Path, name: str
) -> None:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(dashboard_server + PAGES[name])
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    assert browser.find_elements(By.CSS_SELECTOR, "header.top nav a")
    assert "Cannot show this page" not in browser.page_source
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    assert charts and all(c.size["width"] > 200 and c.size["height"] > 50 for c in charts)
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect")
    browser.save_screenshot(str(screenshots / f"{name}.png"))
    assert _console_errors(browser) == []


def test_the_session_drill_down_nests_the_subagent(browser: Any, dashboard_server: str) -> None:
    browser.get(dashboard_server + "/sessions/sess-alpha")
    block = browser.find_element(By.CSS_SELECTOR, "#timeline > li.subagent")
    assert "general-purpose" in block.find_element(By.CSS_SELECTOR, ".subagent-head").text
    nested = block.find_elements(By.CSS_SELECTOR, "ol.nested > li.event")
    assert [e.find_element(By.CSS_SELECTOR, ".hook").text for e in nested] == [
        "SubagentStart",
        "PostToolUse",
        "SubagentStop",
    ]
    failed = browser.find_elements(By.CSS_SELECTOR, "#timeline > li.event.failed")
    assert len(failed) == 1 and "Bash" in failed[0].text and "31 ms" in failed[0].text


def test_the_script_prompt_is_inert(browser: Any, dashboard_server: str) -> None:
    browser.get(dashboard_server + "/sessions/sess-alpha")
    assert browser.execute_script("return typeof window.__xss") == "undefined"
    prompt = browser.find_element(By.CSS_SELECTOR, "ol.prompts pre").text
    assert "<script>window.__xss = 1</script>" in prompt and "javascript:alert(1)" in prompt
    hrefs = [a.get_attribute("href") or "" for a in browser.find_elements(By.TAG_NAME, "a")]
    assert not any(h.startswith("javascript:") for h in hrefs)
    assert _console_errors(browser) == []


def test_a_new_event_appears_live(browser: Any, dashboard_server: str, seeded_url: str) -> None:
    browser.get(dashboard_server + "/sessions/sess-beta")
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return document.readyState") == "complete")
    before = len(browser.find_elements(By.CSS_SELECTOR, "#timeline li.event"))
    marker = f"live-{uuid.uuid4().hex[:8]}"
    session = Session("sess-beta", "other-proj", datetime.now(timezone.utc), terminal="tty-2")
    session.event("UserPromptSubmit", prompt=marker)
    with psycopg.connect(seeded_url) as conn:
        insert_hook_events(conn, session.rows)
    started = time.monotonic()
    WebDriverWait(browser, 5, poll_frequency=0.1).until(lambda d: marker in d.find_element(By.ID, "timeline").text)
    assert time.monotonic() - started <= 5
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline li.event")) == before + 1
    assert _console_errors(browser) == []


def test_a_non_loopback_bind_without_a_token_is_refused(seeded_url: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "omniclaude", "dashboard", "--host", "0.0.0.0", "--database-url", seeded_url],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "OMNICLAUDE_HOME": str(tmp_path)},
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "without a token" in result.stderr

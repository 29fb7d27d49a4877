"""A real headless Chromium for the dashboard tests, driven by selenium through Debian's chromedriver.

`find_or_install_chromium()` returns the chromium and chromedriver paths. When they are missing it runs
`apt-get update` and `apt-get install -y chromium chromium-driver` as root (CI runs as root on a fresh
machine); otherwise it raises MissingToolError saying how to install them. Nothing is downloaded by
selenium itself: the driver path is given, so selenium-manager never runs.

`headless_chromium(profile_dir)` starts a browser with the flags Chromium needs as root in a sandboxless,
offline container (--headless --no-sandbox --disable-gpu, no background networking, no component
updates, no sync, no first-run), a fresh user-data dir, and browser console logging enabled.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from . import MissingToolError, record_timing

_PACKAGES = ("chromium", "chromium-driver")
_INSTALL = "apt-get update && apt-get install -y chromium chromium-driver"


def _paths() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def find_or_install_chromium() -> tuple[str, str]:
    """(chromium, chromedriver): found on PATH, else installed with apt-get when running as root."""
    found = _paths()
    if found:
        return found
    if os.geteuid() != 0:
        raise MissingToolError(f"chromium and chromedriver not found: run `sudo sh -c '{_INSTALL}'`")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", *_PACKAGES]):
        result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise MissingToolError(f"`{' '.join(command)}` failed ({tail[0]}): install chromium and chromium-driver")
    record_timing("chromium installed with apt-get")
    found = _paths()
    if not found:
        raise MissingToolError(f"chromium still not found after apt-get: {_INSTALL}")
    return found


def headless_chromium(profile_dir: Path, *, width: int = 1400, height: int = 1000) -> Any:
    """A selenium Chrome webdriver on a headless Chromium with a fresh profile in `profile_dir`."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser, driver = find_or_install_chromium()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={profile_dir}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(options=options, service=Service(executable_path=driver))

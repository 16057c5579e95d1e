"""Helpers for tests and benchmarks of the page: run ``flowscope ui`` as a real process, and drive the
machine's Chromium through Playwright. Playwright never downloads a browser here: it is pointed at the
OS package (``/usr/bin/chromium``, or ``$FLOWSCOPE_CHROMIUM``); where there is none, :func:`chromium_path`
says why and the callers skip loudly.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM_ENV = "FLOWSCOPE_CHROMIUM"
# The sandbox this runs in has no user namespaces and no GPU; nothing may phone home.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # a headless page counts as hidden: without these its timers and frames are throttled to a crawl
    "--disable-background-timer-throttling",
    "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding",
]


@dataclass
class Server:
    url: str
    process: subprocess.Popen[str]
    lines: list[str]

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        return request(self.url + path.lstrip("/"), headers=headers)

    def post(self, path: str, body: Any, headers: dict[str, str] | None = None) -> tuple[int, Any]:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        h = {"Content-Type": "application/json", **(headers or {})}
        return request(self.url + path.lstrip("/"), data=data, headers=h)


def request(url: str, data: bytes | None = None, headers: dict[str, str] | None = None) -> tuple[int, Any]:
    """(status, parsed JSON body) of one request; error statuses are returned, not raised."""
    req = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            raw = res.read()
            status = res.status
            kind = res.headers.get("content-type", "")
    except urllib.error.HTTPError as err:
        raw, status, kind = err.read(), err.code, err.headers.get("content-type", "")
    return status, json.loads(raw) if "json" in kind else raw.decode("utf-8", "replace")


@contextmanager
def run_server(
    store: Path,
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    host: str = "127.0.0.1",
) -> Iterator[Server]:
    """``flowscope ui --store STORE --port 0 ARGS`` in its own process, until the block ends."""
    cmd = [sys.executable, "-c", "from flowscope.cli import main; main()", "ui", "--store", str(store)]
    cmd += ["--host", host, "--port", "0", *args]
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=full_env, cwd=cwd
    )
    lines: list[str] = []
    try:
        assert proc.stdout is not None
        url = ""
        deadline = time.monotonic() + 120
        while not url and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if " on http://" in line:
                url = line.split(" on ", 1)[1].split()[0]
        if not url:
            raise RuntimeError("flowscope ui did not start: " + "\n".join(lines))
        for _ in range(200):  # bound: uvicorn accepts right after the first line
            try:
                request(url + "api/info")
                break
            except OSError:
                time.sleep(0.05)
        yield Server(url, proc, lines)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def chromium_path() -> tuple[str | None, str]:
    """(path of the machine's Chromium, or None; why not)."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        return None, "the Python package playwright is not installed (pip install flowscope-ui[test])"
    wanted = os.environ.get(CHROMIUM_ENV)
    for candidate in [wanted] if wanted else ["/usr/bin/chromium", "/usr/bin/chromium-browser"]:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return candidate, ""
    found = shutil.which("chromium")
    if found:
        return found, ""
    return None, "no Chromium on this machine (apt-get install chromium, or set $FLOWSCOPE_CHROMIUM)"


@contextmanager
def browser_page(viewport: tuple[int, int] = (1400, 850)) -> Iterator[tuple[Any, list[str]]]:
    """A fresh Chromium page (own profile folder) and the list its console errors and page errors go to."""
    from playwright.sync_api import sync_playwright

    path, why = chromium_path()
    if path is None:
        raise RuntimeError(why)
    profile = tempfile.mkdtemp(prefix="flowscope-ui-chromium-")
    errors: list[str] = []
    try:
        with sync_playwright() as pw:
            ctx = pw.chromium.launch_persistent_context(
                profile,
                executable_path=path,
                args=CHROMIUM_FLAGS,  # the profile folder is passed by Playwright as --user-data-dir
                headless=True,
                viewport={"width": viewport[0], "height": viewport[1]},
            )
            try:
                page = ctx.new_page()
                page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
                page.on("pageerror", lambda e: errors.append(f"page error: {e}"))
                yield page, errors
            finally:
                ctx.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def wait_until(page: Any, expression: str, timeout: float = 20.0) -> Any:
    """Poll a JavaScript expression until it is truthy. Playwright's ``wait_for_function`` evaluates
    strings with ``eval``, which the page's Content-Security-Policy rightly forbids."""
    end = time.monotonic() + timeout
    while True:
        value = page.evaluate(expression)
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"still false after {timeout:g} s: {expression}")
        time.sleep(0.05)


def tap(page: Any, element_id: str) -> None:
    """Click a graph node or edge as a user would (cytoscape's ``tap``). Returns nothing on purpose:
    evaluating to a cytoscape collection makes Playwright serialise the whole graph (minutes)."""
    page.evaluate(
        "(id) => { window.flowscopeUI.cy.getElementById(id).emit('tap'); return null; }", element_id
    )

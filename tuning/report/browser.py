"""Open a page in headless Chromium: its text, its JavaScript errors, how many plotly figures drew, a screenshot.

Used to take the report's PNG snapshot and, in tests, to check that the report
and optuna-dashboard really render. It drives the Chromium that kaleido finds
(Debian's `chromium`) through choreographer, kaleido's own DevTools client.
"""

from __future__ import annotations

import asyncio
import base64
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tuning.errors import TuneError

__all__ = ["PageLoad", "open_page"]

# The figures plotly.js has drawn: each gets a `js-plotly-plot` container with SVG layers inside.
_FIGURES_JS = "[...document.querySelectorAll('.js-plotly-plot')].filter(d => d.querySelector('.main-svg')).length"


@dataclass(frozen=True)
class PageLoad:
    """What a page showed once loaded and settled."""

    text: str  # document.body.innerText
    errors: tuple[str, ...]  # uncaught exceptions, console.error calls, failed loads
    figures: int  # plotly figures drawn
    ready: bool  # whether `wait_for` became true before the timeout


def open_page(
    url: str,
    *,
    wait_for: str = "document.readyState === 'complete'",
    timeout: float = 30.0,
    screenshot: Path | None = None,
    width: int = 1280,
    scale: float = 1.0,
) -> PageLoad:
    """Load `url`, wait until the JavaScript expression `wait_for` is true, and report what happened.

    With `screenshot`, writes a PNG of the whole page (`scale` < 1 makes it smaller).
    """
    from tuning.render import find_chromium

    browser = find_chromium()
    if browser is None:
        raise TuneError("no Chromium found: apt-get install chromium, or set BROWSER_PATH")
    return asyncio.run(_load(browser, url, wait_for, timeout, screenshot, width, scale))


async def _load(
    browser_path: str, url: str, wait_for: str, timeout: float, screenshot: Path | None, width: int, scale: float
) -> PageLoad:
    import choreographer

    errors: list[str] = []
    async with choreographer.Browser(path=browser_path, headless=True) as browser:
        tab = await browser.create_tab("")
        _collect_errors(tab, errors)
        viewport = {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False}
        await tab.send_command("Emulation.setDeviceMetricsOverride", params=viewport)
        for domain in ("Runtime", "Log", "Page"):
            await tab.send_command(f"{domain}.enable")
        loaded = tab.subscribe_once("Page.loadEventFired")
        await tab.send_command("Page.navigate", params={"url": url})
        await asyncio.wait_for(loaded, timeout)
        ready = await _wait(tab, wait_for, timeout)
        await asyncio.sleep(0.5)  # let late errors and redraws arrive
        text = await _evaluate(tab, "document.body ? document.body.innerText : ''")
        figures = await _evaluate(tab, _FIGURES_JS)
        if screenshot is not None:
            await _screenshot(tab, screenshot, scale)
    return PageLoad(text=str(text), errors=tuple(errors), figures=int(figures), ready=ready)


def _collect_errors(tab: Any, errors: list[str]) -> None:
    async def on_exception(message: dict[str, Any]) -> None:
        details = message["params"]["exceptionDetails"]
        errors.append(details.get("exception", {}).get("description") or details.get("text", "exception"))

    async def on_console(message: dict[str, Any]) -> None:
        params = message["params"]
        if params["type"] in ("error", "assert"):
            errors.append(" ".join(str(a.get("value", a.get("description", ""))) for a in params["args"]))

    async def on_log(message: dict[str, Any]) -> None:
        entry = message["params"]["entry"]
        if entry["level"] == "error":
            errors.append(f"{entry['text']} ({entry.get('url', '')})")

    tab.subscribe("Runtime.exceptionThrown", on_exception)
    tab.subscribe("Runtime.consoleAPICalled", on_console)
    tab.subscribe("Log.entryAdded", on_log)


async def _evaluate(tab: Any, expression: str) -> Any:
    reply = await tab.send_command("Runtime.evaluate", params={"expression": expression, "returnByValue": True})
    return reply["result"]["result"].get("value")


async def _wait(tab: Any, expression: str, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await _evaluate(tab, f"Boolean({expression})"):
            return True
        await asyncio.sleep(0.2)
    return False


async def _screenshot(tab: Any, path: Path, scale: float) -> None:
    metrics = await tab.send_command("Page.getLayoutMetrics")
    size = metrics["result"]["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": scale}
    params = {"format": "png", "clip": clip, "captureBeyondViewport": True}
    shot = await tab.send_command("Page.captureScreenshot", params=params)
    path.write_bytes(base64.b64decode(shot["result"]["data"]))

"""Writing figures: self-contained HTML pages, PNG copies through kaleido's Chromium, a trial's curve.

The one module every page writer uses (study plots, `tune compare`, `tune report`, retrain
figures, the dashboard's trial artifacts, the bench scripts). Pages load one shared
``plotly.min.js`` beside them or inline it, so they open offline. Ground level: it imports
no stage of `tuning`; plotly and kaleido are imported inside the functions.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tuning.errors import TuneError

if TYPE_CHECKING:
    import plotly.graph_objects as go

    from tuning.attrs import TrialCurve

__all__ = [
    "PLOTLY_JS",
    "curve_figure",
    "figure_png",
    "find_chromium",
    "integer_axis",
    "png_session",
    "png_wanted",
    "write_figures",
    "write_html",
    "write_pngs",
]

logger = logging.getLogger(__name__)

PLOTLY_JS = "plotly.min.js"  # what plotly's include_plotlyjs="directory" writes beside the pages
PNG_RETRY_SECONDS = 0.5  # figure_png waits this long before its second try
_CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")


def find_chromium() -> str | None:
    """Where kaleido will find a browser: ``BROWSER_PATH``, else one on ``PATH``."""
    explicit = os.environ.get("BROWSER_PATH")
    if explicit:
        return explicit if os.access(explicit, os.X_OK) else None
    return next(filter(None, map(shutil.which, _CHROMIUM_NAMES)), None)


def png_wanted(png: bool | None) -> bool:
    """Whether to write PNG copies: `png` False never, None where a Chromium is found, True or an error."""
    if png is False:
        return False
    if find_chromium() is not None:
        return True
    if png is None:
        logger.info("no Chromium found; writing HTML plots without PNG copies")
        return False
    raise TuneError(
        "PNG export needs Chromium, and none was found: install it "
        "(apt-get install chromium) or set BROWSER_PATH to a Chrome/Chromium binary"
    )


def write_html(fig: go.Figure, path: Path, *, shared_plotlyjs: bool = False) -> Path:
    """A page that opens offline: plotly.js inlined, or `shared_plotlyjs` in one plotly.min.js beside it."""
    fig.write_html(path, include_plotlyjs="directory" if shared_plotlyjs else True, full_html=True)
    return path


def write_pngs(figures: dict[str, go.Figure], out: Path, *, required: bool) -> list[Path]:
    """Export every figure in one kaleido call, so they share one browser start."""
    import plotly.io as pio

    paths = [out / f"{stem}.png" for stem in figures]
    started = time.perf_counter()
    try:
        pio.write_images(list(figures.values()), paths)
    except Exception as exc:  # kaleido/Chromium fail in many ways; PNGs are optional
        for path in paths:
            path.unlink(missing_ok=True)
        reason = " ".join(map(str, exc.args)) or type(exc).__name__
        if required:
            raise TuneError(f"PNG export with kaleido/Chromium failed: {reason}") from exc
        logger.warning("PNG export failed, wrote HTML plots only: %s", reason)
        return []
    logger.info("wrote %d PNG files in %.1f s", len(paths), time.perf_counter() - started)
    return paths


def write_figures(figures: dict[str, go.Figure], out: Path, *, png: bool | None = None) -> list[Path]:
    """Write ``STEM.html`` per figure, sharing one plotly.min.js beside them, and, as `png_wanted`
    decides, ``STEM.png`` copies: the pages, the plotly.js file, then the images."""
    want_png = png_wanted(png)
    pages = [write_html(fig, out / f"{stem}.html", shared_plotlyjs=True) for stem, fig in figures.items()]
    images = write_pngs(figures, out, required=png is True) if want_png else []
    return [*pages, *([out / PLOTLY_JS] if pages else []), *images]


def figure_png(fig: go.Figure, width: int = 900, height: int = 400) -> bytes:
    """The figure as PNG bytes: about 0.4 s inside `png_session`, 3.3 s outside (a Chromium start each).

    Tried twice: kaleido's page in a fresh Chromium may not have loaded its script yet at the first
    image ("kaleido_scopes is not defined", seen once in ~20 full test runs)."""
    import plotly.io as pio

    with warnings.catch_warnings():  # plotly: "kopts ... ignored if using a server", as intended
        warnings.simplefilter("ignore", UserWarning)
        try:
            return bytes(pio.to_image(fig, format="png", width=width, height=height))
        except Exception as exc:  # kaleido/Chromium fail in many ways; once more, then the error stands
            logger.debug("PNG export failed once, trying again: %s", exc)
            time.sleep(PNG_RETRY_SECONDS)
            return bytes(pio.to_image(fig, format="png", width=width, height=height))


@contextlib.contextmanager
def png_session() -> Iterator[None]:
    """Keep one kaleido Chromium for the PNGs drawn inside the block (a search's trials), where one is installed."""
    if not png_wanted(None):
        yield
        return
    import kaleido

    kaleido.start_sync_server(silence_warnings=True)
    try:
        yield
    finally:
        # Its DevTools pipe may log a harmless parse error of Chromium's goodbye while closing.
        pipe_logger = logging.getLogger("choreographer")
        level = pipe_logger.level
        pipe_logger.setLevel(logging.CRITICAL)
        try:
            kaleido.stop_sync_server(silence_warnings=True)
        except Exception as exc:  # Chromium already gone (Ctrl-C reaches it too): nothing left to stop
            logger.debug("stopping kaleido's Chromium: %s", exc)
        finally:
            pipe_logger.setLevel(level)


def integer_axis(largest: float) -> dict[str, object]:
    """Axis settings for a count (trial numbers, epochs): ticks on whole numbers only, shown without decimals."""
    return {"dtick": 1, "tickformat": "d"} if largest <= 20 else {"tickformat": "d"}


def curve_figure(curve: TrialCurve, title: str) -> go.Figure:
    """A trial's accuracy and loss at each check, against epochs trained: training solid, validation dashed."""
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=1, cols=2, subplot_titles=("accuracy", "loss"))
    series = (
        (1, "train accuracy", curve.train_accuracy, "solid"),
        (1, "validation accuracy", curve.val_accuracy, "dash"),
        (2, "train loss", curve.train_loss, "solid"),
        (2, "validation loss", curve.val_loss, "dash"),
    )
    for column, name, values, dash in series:
        if values:
            epochs = curve.epochs[: len(values)]
            fig.add_scatter(x=epochs, y=values, mode="lines+markers", name=name, line={"dash": dash}, row=1, col=column)
    fig.update_xaxes(title_text="epochs trained")
    fig.update_layout(title_text=title)
    return fig

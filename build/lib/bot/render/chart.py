"""The review chart: how long after the start each task was completed, as a PNG.

Drawn with Pillow (one well-kept wheel, no system libraries, a few ms per picture) rather than
a plotting stack: a horizontal bar per completed task is all the picture needs.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence

from PIL import Image, ImageDraw, ImageFont

from bot.domain.review import TaskDone
from bot.render.format import duration

WIDTH = 900
ROW = 26
TOP = 56
BOTTOM = 40
LABEL_W = 330
RIGHT = 90
MAX_ROWS = 60
BACKGROUND = (255, 255, 255)
INK = (33, 37, 41)
GRID = (222, 226, 230)
BAR = (224, 30, 90)


@functools.cache
def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def _fit(
    draw: ImageDraw.ImageDraw,
    text: str,
    font: ImageFont.ImageFont | ImageFont.FreeTypeFont,
    width: int,
) -> str:
    if draw.textlength(text, font=font) <= width:
        return text
    while text and draw.textlength(text + "…", font=font) > width:
        text = text[:-1]
    return text + "…"


def _ticks(span_ms: int) -> list[int]:
    """About five round tick positions between 0 and ``span_ms``."""
    minute = 60_000
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10080):
        if span_ms / (step * minute) <= 6:
            return list(range(0, span_ms + 1, step * minute))
    return [0, span_ms]


def task_chart(title: str, tasks: Sequence[TaskDone]) -> bytes:
    """A PNG: one bar per completed task, from the start to its completion."""
    shown = list(tasks[:MAX_ROWS])
    rows = max(1, len(shown))
    height = TOP + rows * ROW + BOTTOM
    image = Image.new("RGB", (WIDTH, height), BACKGROUND)
    draw = ImageDraw.Draw(image)
    font, small, big = _font(13), _font(11), _font(16)
    draw.text((12, 12), _fit(draw, title, big, WIDTH - 24), fill=INK, font=big)
    left, right = LABEL_W, WIDTH - RIGHT
    if not shown:
        draw.text((12, TOP + 4), "No task has been completed yet.", fill=INK, font=font)
    else:
        span = max(max(t.after_ms for t in shown), 60_000)
        scale = (right - left) / span
        axis_y = TOP + rows * ROW + 4
        for tick in _ticks(span):
            x = left + round(tick * scale)
            draw.line([(x, TOP - 4), (x, axis_y)], fill=GRID)
            draw.text((x, axis_y + 4), duration(tick) if tick else "0", fill=INK, font=small)
        for n, task in enumerate(shown):
            y = TOP + n * ROW
            label = _fit(draw, f"{task.stage}: {task.title}", font, LABEL_W - 20)
            draw.text((12, y + 5), label, fill=INK, font=font)
            end = left + max(2, round(task.after_ms * scale))
            draw.rectangle([(left, y + 4), (end, y + ROW - 6)], fill=BAR)
            draw.text((end + 6, y + 6), duration(task.after_ms), fill=INK, font=small)
        draw.line([(left, axis_y), (right, axis_y)], fill=INK)
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=6)
    return out.getvalue()

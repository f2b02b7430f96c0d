"""The review chart is a real PNG whose height grows with the number of tasks."""

from __future__ import annotations

import io
import struct

from PIL import Image

from bot.domain.review import TaskDone
from bot.render.chart import MAX_ROWS, WIDTH, task_chart


def size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    w, h = struct.unpack(">II", data[16:24])
    return w, h


def test_chart_is_a_png_of_plausible_size() -> None:
    tasks = [TaskDone("Triage", f"Task {n}", n * 600_000, "") for n in range(1, 6)]
    one, five = size(task_chart("One", tasks[:1])), size(task_chart("Five", tasks))
    assert one[0] == five[0] == WIDTH and one[1] < five[1] < 400
    with Image.open(io.BytesIO(task_chart("Five", tasks))) as image:
        image.verify()


def test_no_tasks_and_too_many_tasks_still_draw() -> None:
    assert size(task_chart("None", []))[1] > 50
    many = [TaskDone("S", f"T{n}", n * 1000, "") for n in range(500)]
    assert size(task_chart("Many", many))[1] == size(task_chart("Max", many[:MAX_ROWS]))[1]

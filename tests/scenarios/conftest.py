from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.scenarios.harness import World, world


@pytest.fixture
async def w(tmp_path: Path) -> AsyncIterator[World]:
    async with world(tmp_path) as built:
        yield built

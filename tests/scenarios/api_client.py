"""Calling warroom's REST API as a person does: with their Mattermost token, over HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.scenarios.harness import World


@dataclass
class Answer:
    status: int
    body: Any
    headers: dict[str, str]

    @property
    def error(self) -> dict[str, str]:
        """The ``error`` object of an error answer (its one shape is asserted here)."""
        assert set(self.body) == {"error"}, self.body
        error: dict[str, str] = self.body["error"]
        assert set(error) == {"id", "message", "field"}, error
        return error


async def call(
    w: World,
    user: Any | None,
    method: str,
    path: str,
    *,
    json: Any = None,
    params: dict[str, str] | None = None,
    token: str | None = None,
    data: bytes | None = None,
) -> Answer:
    """``method`` ``/api/v1<path>`` as ``user`` (their token), or with ``token``, or none."""
    headers = {}
    bearer = token if token is not None else (user.token if user is not None else None)
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            f"{w.app.url}/api/v1{path}",
            json=json,
            params=params,
            headers=headers,
            data=data,
        ) as response,
    ):
        body = await response.json(content_type=None)
        answer = Answer(response.status, body, dict(response.headers))
    await w.settle()
    return answer

"""REST calls sent bare, one after the other, from a process of their own (for benchmarks).

    python -m bench.bare_calls URL TOKEN

The client is warroom's own library, mattermostautodriver (``AsyncTypedDriver`` configured as
:func:`bot.transport.mattermost_client.driver_options` configures it), with nothing around it:
no retries, no models, no store. Each line read on standard input is one sequence, a JSON
list of calls (``method``, ``endpoint``, ``options``: the JSON body, ``params``: the query,
``made_id``: the id the answer carried when warroom made the call); the calls are sent one
after the other, each answer read as JSON, and one JSON line is written for the sequence:
``began`` (``time.perf_counter()`` just before the first call was sent: system-wide
monotonic on Linux, so comparable with the benchmark's readings), ``ended`` (its last answer
read), ``sent`` and ``refused`` (the calls Mattermost refused, as text).

Only what must differ from warroom's sequence does: a new channel gets another name of the
same length (names are unique), and the calls that followed on what warroom made (its channel,
its posts) go to what this sequence made (ids of the same length), since repeated on
warroom's they would be no-ops (adding a member twice, pinning a pinned card). A first line
``{"ready": true}`` says the client is connected (one ``users/me`` asked before).
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import string
import sys
import time
from typing import Any

from mattermostautodriver import AsyncTypedDriver

from bot.transport.mattermost_client import driver_options


def answer_id(response: Any) -> str:
    """The "id" of a JSON answer (a channel or a post made), else ""."""
    try:
        body = response.json()
    except ValueError:  # not JSON: nothing made
        return ""
    return str(body.get("id", "")) if isinstance(body, dict) else ""


def renamed(name: str) -> str:
    """Another channel name of the same length (names are unique; the body keeps its size)."""
    letters = string.ascii_lowercase + string.digits
    return "b" + "".join(random.choice(letters) for _ in range(len(name) - 1))


def swapped(value: Any, ids: dict[str, str]) -> Any:
    """``value`` (a path, or a JSON body's values) with warroom's ids swapped for this
    sequence's own (ids have one length, so sizes do not change)."""
    if isinstance(value, str):
        for ours, theirs in ids.items():
            value = value.replace(ours, theirs)
        return value
    if isinstance(value, dict):
        return {k: swapped(v, ids) for k, v in value.items()}
    if isinstance(value, list):
        return [swapped(v, ids) for v in value]
    return value


async def sequence(client: Any, calls: list[dict[str, Any]]) -> dict[str, Any]:
    """Send ``calls`` one after the other (see the module's docstring); what to report."""
    ids: dict[str, str] = {}
    refused: list[str] = []
    began = time.perf_counter()
    for call in calls:
        options = swapped(call["options"], ids)
        if call["method"] == "post" and call["endpoint"] == "/api/v4/channels":
            options = {**options, "name": renamed(options["name"])}
        try:
            response = await client.make_request(
                call["method"], swapped(call["endpoint"], ids), options, call["params"] or None
            )
        except Exception as exc:  # a refusal costs the server its answer too; go on
            refused.append(f"{call['method']} {call['endpoint']}: {exc!r}"[:200])
            continue
        made = answer_id(response)
        if call["made_id"] and made:
            ids[call["made_id"]] = made
    ended = time.perf_counter()
    return {"began": began, "ended": ended, "sent": len(calls), "refused": refused}


async def serve(url: str, token: str) -> None:
    """Read sequences from standard input until it ends; one report line for each."""
    driver = AsyncTypedDriver(driver_options(url, token, timeout=30.0))
    driver.client.token = token  # as MattermostClient: the header without a login
    # The driver logs each refusal (at a level it sets itself); they are reported instead.
    logging.getLogger("mattermostautodriver.websocket").setLevel(logging.CRITICAL)
    loop = asyncio.get_running_loop()
    try:
        await driver.client.make_request("get", "/api/v4/users/me")  # connected, warm
        print(json.dumps({"ready": True}), flush=True)
        while line := await loop.run_in_executor(None, sys.stdin.readline):
            report = await sequence(driver.client, json.loads(line))
            print(json.dumps(report), flush=True)
    finally:
        await driver.close()


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], sys.argv[2]))

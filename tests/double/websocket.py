"""`GET /api/v4/websocket`: 5.36 event delivery (no resume, fresh hello on reconnect)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from .util import SERVER_VERSION, Json, dumps, now_ms
from .wire import broadcast

AUTH_TIMEOUT = 5.0


@dataclass(eq=False)
class Connection:
    user_id: str
    ws: web.WebSocketResponse
    seq: int = 0
    queue: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)

    def enqueue_event(self, event: str, data: Json, bcast: Json) -> None:
        frame = {"event": event, "data": data, "broadcast": bcast, "seq": self.seq}
        self.seq += 1
        self.queue.put_nowait(dumps(frame))

    def enqueue_reply(self, seq_reply: int, status: str = "OK", data: Json | None = None) -> None:
        reply: Json = {"status": status, "seq_reply": seq_reply}
        if data is not None:
            reply["data"] = data
        self.queue.put_nowait(dumps(reply))


class Hub:
    """Connected websockets and the delivery rules of events."""

    def __init__(
        self,
        channel_members: Callable[[str], set[str]],
        team_members: Callable[[str], set[str]],
    ) -> None:
        self._channel_members = channel_members
        self._team_members = team_members
        self.connections: list[Connection] = []
        self.events: list[Json] = []  # every event emitted (wire form), for inspection

    def connected_users(self) -> set[str]:
        return {c.user_id for c in self.connections}

    def emit(
        self,
        event: str,
        data: Json,
        *,
        user_id: str = "",
        channel_id: str = "",
        team_id: str = "",
        omit: set[str] | None = None,
    ) -> None:
        """Queue `event` for every connection it is for (membership read now)."""
        bcast = broadcast(user_id=user_id, channel_id=channel_id, team_id=team_id)
        self.events.append({"event": event, "data": data, "broadcast": bcast})
        if user_id:
            targets = {user_id}
        elif channel_id:
            targets = self._channel_members(channel_id)
        elif team_id:
            targets = self._team_members(team_id)
        else:
            targets = self.connected_users()
        targets -= omit or set()
        for conn in list(self.connections):
            if conn.user_id in targets:
                conn.enqueue_event(event, data, bcast)

    async def drop_all(self) -> None:
        dropped, self.connections = self.connections, []
        for conn in dropped:
            conn.queue.put_nowait(None)
            await conn.ws.close(code=1001, message=b"going away")

    # ---- the handler -----------------------------------------------------
    async def handle(
        self,
        request: web.Request,
        header_user: str | None,
        resolve_token: Callable[[str], str | None],
    ) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(heartbeat=60.0, autoping=True)
        await ws.prepare(request)
        user_id = header_user
        challenge_seq: int | None = None
        if user_id is None:
            user_id, challenge_seq = await self._challenge(ws, resolve_token)
            if user_id is None:
                await ws.close()
                return ws
        conn = Connection(user_id=user_id, ws=ws)
        was_online = user_id in self.connected_users()
        self.connections.append(conn)
        conn.enqueue_event(
            "hello",
            {"server_version": SERVER_VERSION, "connection_id": ""},
            broadcast(user_id=user_id),
        )
        if challenge_seq is not None:
            conn.enqueue_reply(challenge_seq)
        if not was_online:
            conn.enqueue_event(
                "status_change",
                {"status": "online", "user_id": user_id},
                broadcast(user_id=user_id),
            )
        writer = asyncio.create_task(self._writer(conn))
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._client_request(conn, msg.data)
                elif msg.type in (WSMsgType.ERROR, WSMsgType.CLOSE):
                    break
        finally:
            if conn in self.connections:
                self.connections.remove(conn)
            conn.queue.put_nowait(None)
            with contextlib.suppress(Exception):
                await writer
        return ws

    async def _challenge(
        self, ws: web.WebSocketResponse, resolve_token: Callable[[str], str | None]
    ) -> tuple[str | None, int | None]:
        try:
            msg = await ws.receive(timeout=AUTH_TIMEOUT)
        except TimeoutError:
            return None, None
        if msg.type != WSMsgType.TEXT:
            return None, None
        try:
            req = json.loads(msg.data)
        except ValueError:
            return None, None
        if not isinstance(req, dict) or req.get("action") != "authentication_challenge":
            return None, None
        data = req.get("data")
        token = data.get("token") if isinstance(data, dict) else None
        user_id = resolve_token(token) if isinstance(token, str) else None
        seq = req.get("seq")
        return user_id, (seq if isinstance(seq, int) else 0) if user_id else None

    def _client_request(self, conn: Connection, raw: str) -> None:
        try:
            req: Any = json.loads(raw)
        except ValueError:
            return
        if not isinstance(req, dict) or not isinstance(req.get("seq"), int):
            return
        data: Json | None = None
        if req.get("action") == "ping":
            data = {"text": "pong", "version": SERVER_VERSION, "server_time": now_ms()}
        conn.enqueue_reply(req["seq"], data=data)

    @staticmethod
    async def _writer(conn: Connection) -> None:
        while True:
            frame = await conn.queue.get()
            if frame is None or conn.ws.closed:
                return
            try:
                await conn.ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                return

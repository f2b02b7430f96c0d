"""The bot's websocket: read frames, parse them, queue the events. Never waits on handlers.

Reconnects forever with exponential backoff and full jitter. The backoff starts again from
its base once a connection is authenticated, i.e. its first event arrives (``hello``, or the
replayed event of a resume: Mattermost sends events only to an authenticated connection),
however short the connection then lives: a cut after a good connection costs at most
``BACKOFF_BASE``, only failing attempts grow the delay. After any (re)connect that
may have lost events it awaits ``on_connected(first)`` so the app can re-read state over
REST. Mattermost 5.36 always sends an empty ``connection_id`` in ``hello``, so every
reconnect there is a fresh connection followed by ``on_connected(False)``.

Resume (servers that send a ``connection_id``): the next connection asks for
``?connection_id=…&sequence_number=<last+1>``. If the server answers with a new ``hello``
the resume was refused and ``on_connected(False)`` is awaited; if the first frame is the
event with the expected ``seq`` the resume worked and ``on_connected`` is **not** called
(nothing was lost). Any gap in ``seq`` on a live connection also awaits
``on_connected(False)``.

``on_connected`` runs before the next frame of that connection is read: frames wait in
the socket meanwhile (none are lost), so keep it short or let it spawn the slow work.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random as random_module
import re
from collections.abc import Awaitable, Callable
from typing import Literal

import aiohttp

from bot.log import get_logger
from bot.transport.events import Event, Frame, Hello, decode_frame

log = get_logger(__name__)

QUEUE_SIZE = 10_000
BACKOFF_BASE = 0.5
BACKOFF_CAP = 30.0
CONNECT_TIMEOUT = 15.0
CLOSE_TIMEOUT = 2.0

OnConnected = Callable[[bool], Awaitable[None]]
# Looks at a raw frame first: ``Frame(seq, None)`` to drop it undecoded, None to decode it.
Prefilter = Callable[[str | bytes], Frame | None]
Sleep = Callable[[float], Awaitable[None]]


_EVENT_NAME = re.compile(r"^[a-z_]{1,40}$")  # a server's event name; anything else is not counted


def new_event_queue(maxsize: int = QUEUE_SIZE) -> asyncio.Queue[Event]:
    return asyncio.Queue(maxsize=maxsize)


def websocket_url(mattermost_url: str) -> str:
    """``https://chat.example.com`` -> ``wss://chat.example.com/api/v4/websocket``."""
    base = mattermost_url.rstrip("/")
    if base.startswith("https://"):
        base = "wss://" + base.removeprefix("https://")
    elif base.startswith("http://"):
        base = "ws://" + base.removeprefix("http://")
    else:
        raise ValueError("the Mattermost URL must start with http:// or https://")
    return base + "/api/v4/websocket"


def backoff_delay(attempt: int, rand: float, *, base: float, cap: float) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**attempt)) given ``rand`` in [0, 1)."""
    return rand * min(cap, base * float(2 ** min(attempt, 32)))


class WebsocketListener:
    def __init__(
        self,
        *,
        url: str,
        token: str,
        queue: asyncio.Queue[Event],
        on_connected: OnConnected,
        session: aiohttp.ClientSession | None = None,
        heartbeat: float = 30.0,
        sleep: Sleep = asyncio.sleep,
        random: Callable[[], float] = random_module.random,
        backoff_base: float = BACKOFF_BASE,
        backoff_cap: float = BACKOFF_CAP,
        prefilter: Prefilter | None = None,
    ) -> None:
        self._url = websocket_url(url)
        self._headers = {"Authorization": f"Bearer {token}"}
        self._queue = queue
        self._on_connected = on_connected
        self._session = session
        self._heartbeat = heartbeat
        self._sleep = sleep
        self._random = random
        self._base = backoff_base
        self._cap = backoff_cap
        self._prefilter = prefilter

        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._stopping = asyncio.Event()
        self._finished = asyncio.Event()
        self._running = False
        self._attempt = 0
        self._synced_once = False
        self._connection_id = ""
        self._last_seq: int | None = None
        self._first_frame: Literal["fresh", "resume"] | None = None
        self.dropped = 0
        self.reconnects = 0  # times the stream was lost (or not reached) and tried again
        self.events_by_type: collections.Counter[str] = collections.Counter()  # for metrics
        self.connections = 0

    @property
    def connected(self) -> bool:
        return self._ws is not None and not self._ws.closed

    @property
    def last_seq(self) -> int | None:
        return self._last_seq

    async def run(self) -> None:
        """Connect, read and reconnect until :meth:`stop`. Only CancelledError escapes."""
        self._running = True
        self._finished.clear()
        session = self._session
        try:
            if session is None:
                session = aiohttp.ClientSession(
                    timeout=aiohttp.ClientTimeout(total=None, sock_connect=CONNECT_TIMEOUT)
                )
            while not self._stopping.is_set():
                delay = await self._one_connection(session)
                if self._stopping.is_set():
                    break
                await self._until_stopped(self._sleep(delay))
        except Exception:  # a bug in here must not kill the app: log it, stop listening
            log.exception("websocket_listener_crashed")
        finally:
            if session is not None and self._session is None:
                await session.close()
            self._running = False
            self._finished.set()
            log.info("websocket_stopped", connections=self.connections, dropped=self.dropped)

    async def stop(self) -> None:
        """Close the socket and make :meth:`run` return; waits (briefly) until it has."""
        self._stopping.set()
        if self._running:
            try:
                await asyncio.wait_for(self._finished.wait(), CLOSE_TIMEOUT * 2)
            except TimeoutError:
                log.warning("websocket_stop_slow")

    # ---- one connection ------------------------------------------------------------
    async def _one_connection(self, session: aiohttp.ClientSession) -> float:
        """Connect and read until the socket ends; return the delay before the next try."""
        try:
            await self._until_stopped(self._connect_and_read(session))
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status == 401:
                log.error(
                    "websocket_unauthorized",
                    detail="bot token rejected (401); check the token, retrying",
                    retry_in=self._cap,
                )
                return self._cap
            log.warning("websocket_handshake_failed", status=exc.status, message=exc.message)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.warning("websocket_connect_failed", error=repr(exc))
        except Exception:
            log.exception("websocket_unexpected_error")
        delay = backoff_delay(self._attempt, self._random(), base=self._base, cap=self._cap)
        self._attempt += 1
        if not self._stopping.is_set():
            self.reconnects += 1
            log.info("websocket_reconnecting", retry_in=round(delay, 3), attempt=self._attempt)
        return delay

    async def _connect_and_read(self, session: aiohttp.ClientSession) -> None:
        params: dict[str, str] = {}
        resume = bool(self._connection_id) and self._last_seq is not None
        if resume and self._last_seq is not None:
            params = {
                "connection_id": self._connection_id,
                "sequence_number": str(self._last_seq + 1),
            }
        async with asyncio.timeout(CONNECT_TIMEOUT):
            ws = await session.ws_connect(
                self._url, headers=self._headers, heartbeat=self._heartbeat, params=params
            )
        self._ws = ws
        self.connections += 1
        self._first_frame = "resume" if resume else "fresh"
        log.info("websocket_connected", resume=resume, connections=self.connections)
        try:
            async for msg in ws:
                if msg.type in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                    await self._on_frame(msg.data)
                elif msg.type == aiohttp.WSMsgType.ERROR:
                    log.warning("websocket_error", error=repr(ws.exception()))
                    break
        finally:
            self._ws = None
            await ws.close()
        closed = log.info if self._stopping.is_set() else log.warning
        closed("websocket_closed", code=ws.close_code, last_seq=self._last_seq)

    async def _until_stopped(self, work: Awaitable[None]) -> None:
        """Run ``work`` until it ends or :meth:`stop` is called (then close and cancel it)."""
        task = asyncio.ensure_future(work)
        stopper = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            await asyncio.wait({task}, timeout=CLOSE_TIMEOUT)  # let it close the socket
            raise
        finally:
            stopper.cancel()
        if not task.done():
            ws = self._ws
            if ws is not None:  # connected: close cleanly, let the reader finish
                with contextlib.suppress(TimeoutError, aiohttp.ClientError, OSError):
                    await asyncio.wait_for(ws.close(), CLOSE_TIMEOUT)
                await asyncio.wait({task}, timeout=CLOSE_TIMEOUT)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            return
        task.result()

    # ---- frames --------------------------------------------------------------------
    async def _on_frame(self, raw: str | bytes) -> None:
        frame = self._prefilter(raw) if self._prefilter is not None else None
        if frame is None:
            frame = decode_frame(raw)
        if frame.seq is None:
            return
        if _EVENT_NAME.match(frame.kind):
            self.events_by_type[frame.kind] += 1
        if self._track(frame.seq, frame.event):
            await self._resync()
        if frame.event is not None:
            self._enqueue(frame.event)

    def _track(self, seq: int, event: Event | None) -> bool:
        """Record ``seq``; True when events may have been lost and state must be re-read."""
        mode, self._first_frame = self._first_frame, None
        last, self._last_seq = self._last_seq, seq
        if mode is not None:
            self._attempt = 0  # the first event of a connection: it is authenticated
        if isinstance(event, Hello):
            self._connection_id = event.connection_id
            log.info(
                "websocket_hello",
                server_version=event.server_version,
                resumable=bool(event.connection_id),
                resume_refused=mode == "resume",
            )
            return True
        if mode == "fresh":
            log.warning("websocket_no_hello", seq=seq)
            return True
        if last is not None and seq != last + 1:
            log.warning("websocket_seq_gap", expected=last + 1, got=seq, resumed=mode == "resume")
            return True
        if mode == "resume":
            log.info("websocket_resumed", seq=seq)
        return False

    async def _resync(self) -> None:
        first = not self._synced_once
        self._synced_once = True
        try:
            await self._on_connected(first)
        except Exception:
            log.exception("on_connected_failed", first=first)

    def _enqueue(self, event: Event) -> None:
        try:
            self._queue.put_nowait(event)
            return
        except asyncio.QueueFull:
            pass
        try:
            self._queue.get_nowait()
            self._queue.task_done()
        except (asyncio.QueueEmpty, ValueError):
            pass
        self._queue.put_nowait(event)
        self.dropped += 1
        if self.dropped == 1 or self.dropped % 1000 == 0:
            log.warning("event_queue_full", detail="dropped the oldest event", dropped=self.dropped)

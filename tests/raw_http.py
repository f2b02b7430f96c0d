"""HTTP/1.1 requests written byte by byte, for bodies and headers no client library would send."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

TIMEOUT = 10.0


@dataclass
class RawResponse:
    status: int  # 0: the server closed the connection without an answer
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


async def raw_post(
    base_url: str,
    path: str,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
    *,
    content_length: int | None = None,
    chunked: bool = False,
) -> RawResponse:
    """POST ``body`` with exactly ``headers`` (repeats kept, nothing added but Host,
    Connection: close and the length: ``content_length`` when given, else the body's, or
    ``chunked`` framing when asked)."""
    url = urlsplit(base_url)
    lines = [f"POST {path} HTTP/1.1", f"Host: {url.netloc}", "Connection: close"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    if chunked:
        lines.append("Transfer-Encoding: chunked")
        payload = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n" if body else b"0\r\n\r\n"
    else:
        lines.append(f"Content-Length: {len(body) if content_length is None else content_length}")
        payload = body
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    async with asyncio.timeout(TIMEOUT):
        reader, writer = await asyncio.open_connection(url.hostname, url.port)
        try:
            with contextlib.suppress(
                ConnectionError
            ):  # the server may answer before reading it all
                writer.write(head + payload)
                await writer.drain()
                if content_length is not None and content_length > len(body):
                    writer.write_eof()  # announced more than sent: the server sees the end
            try:
                raw = await reader.read()
            except ConnectionError:
                raw = b""
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
    return _parse(raw)


def _parse(raw: bytes) -> RawResponse:
    head, _, body = raw.partition(b"\r\n\r\n")
    if not head:
        return RawResponse(0, {}, b"")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return RawResponse(int(status_line.split()[1]), headers, body)


def _unchunk(data: bytes) -> bytes:
    out = b""
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return out

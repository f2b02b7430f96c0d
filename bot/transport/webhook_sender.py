"""POSTs webhook deliveries over HTTP (implements services.ports.WebhookSender)."""

from __future__ import annotations

import aiohttp

from bot.services.ports import WebhookUnreachable

TIMEOUT_S = 10.0


class HttpWebhookSender:
    """One aiohttp session, opened on first use; redirects are not followed (a redirect
    could lead past the allowed hosts)."""

    def __init__(self, timeout_s: float = TIMEOUT_S) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        try:
            async with self._session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as answer:
                await answer.read()
                return answer.status
        except TimeoutError as exc:
            raise WebhookUnreachable("timed out") from exc
        except aiohttp.ClientError as exc:
            raise WebhookUnreachable(type(exc).__name__) from exc

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

"""What ``warroom setup`` stores for ``warroom run``: tokens and the signing key."""

from __future__ import annotations

import json

from pydantic import BaseModel, Field

from bot.store.db import Database


class Installation(BaseModel):
    bot_user_id: str = ""
    bot_token: str = ""
    signing_key: str = ""
    # where Mattermost was told to reach warroom (the registered command's URL base)
    public_url: str = ""
    # team id -> slash command token
    command_tokens: dict[str, str] = Field(default_factory=dict)


class InstallationStore:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> Installation:
        async with self._db.conn.execute("SELECT key, value FROM installation") as cur:
            rows = await cur.fetchall()
        values = {r[0]: json.loads(r[1]) for r in rows}
        return Installation.model_validate(values)

    async def save(self, installation: Installation) -> None:
        async with self._db.transaction() as tx:
            for key, value in installation.model_dump().items():
                await tx.conn.execute(
                    "INSERT INTO installation (key, value) VALUES (?, ?)"
                    " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                    (key, json.dumps(value)),
                )

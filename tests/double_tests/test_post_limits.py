"""The post limits of Mattermost 5.36, enforced by the double exactly as the server does.

Source (server v5.36.0): ``model/post.go`` ``IsValid`` — the message at most
``POST_MESSAGE_MAX_RUNES_V2`` = 16383 runes (``model.post.is_valid.msg.app_error``) and
``StringInterfaceToJson(props)`` at most ``POST_PROPS_MAX_RUNES`` = 8000 runes
(``model.post.is_valid.props.app_error``), both 400. ``IsValid`` runs in
``SqlPostStore.Save`` (create) and ``SqlPostStore.Update``, which ``App.UpdatePost`` calls
for PUT, for ``App.PatchPost`` and for an action response's ``update``
(``app/integration_action.go`` ``DoPostActionWithCookie``). Before it, ``PreCommit`` →
``GenerateActionIds`` (``model/integration_action.go``) re-reads the attachments into
``SlackAttachment`` structs, so their empty fields count, and ``CreatePost``
(``app/post.go``) adds ``from_bot`` to a bot's post; ``UpdatePost`` replaces the props
with those sent, so an update carries no ``from_bot`` unless it sends one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .conftest import Seed

FIXTURES = Path(__file__).parents[1] / "fixtures" / "mattermost"
# '{"from_bot":"true","k":"' + value + '"}': Go sorts map keys and writes no spaces.
FROM_BOT_AND_K = len('{"from_bot":"true","k":""}')
K_ONLY = len('{"k":""}')


def recorded_attachment_runes(text: str) -> int:
    """Runes of an attachment with only ``text`` set, in the recorded stored shape."""
    recorded = json.loads((FIXTURES / "rest_patch_post_props.json").read_text())
    attachment = recorded["body"]["props"]["attachments"][0]
    assert attachment["text"] == "new"  # every other field is its empty value
    return len(json.dumps(attachment, separators=(",", ":"))) - len("new") + len(text)


async def create(seed: Seed, props: dict[str, Any], message: str = "m") -> Any:
    return await seed.rest.call(
        seed.bot,
        "POST",
        "/posts",
        {"channel_id": seed.secret.id, "message": message, "props": props},
    )


async def test_props_limit_on_create_counts_runes_of_the_stored_json(seed: Seed) -> None:
    fits = await create(seed, {"k": "x" * (8000 - FROM_BOT_AND_K)})
    assert fits.status == 201, fits.text
    over = await create(seed, {"k": "x" * (8001 - FROM_BOT_AND_K)})
    assert over.status == 400
    assert over.body["id"] == "model.post.is_valid.props.app_error"
    assert over.body["message"] == "Invalid props."
    # Runes, not bytes: a two-byte letter counts once.
    assert (await create(seed, {"k": "é" * (8000 - FROM_BOT_AND_K)})).status == 201
    # Go's encoder writes <, > and & as \u003c (six runes), a quote as \" (two).
    six = (8000 - FROM_BOT_AND_K) // 6
    assert (await create(seed, {"k": "<" * six})).status == 201
    assert (await create(seed, {"k": "<" * (six + 1)})).status == 400
    assert (await create(seed, {"k": '"' * ((8000 - FROM_BOT_AND_K) // 2)})).status == 201
    assert (await create(seed, {"k": '"' * ((8000 - FROM_BOT_AND_K) // 2 + 1)})).status == 400


async def test_attachments_count_with_every_field_of_their_struct(seed: Seed) -> None:
    wrapper = len('{"attachments":[],"from_bot":"true"}')
    pad = 8000 - wrapper - recorded_attachment_runes("")
    fits = await create(seed, {"attachments": [{"text": "x" * pad}]})
    assert fits.status == 201, fits.text
    over = await create(seed, {"attachments": [{"text": "x" * (pad + 1)}]})
    assert over.status == 400 and over.body["id"] == "model.post.is_valid.props.app_error"


async def test_message_limit_is_16383_runes(seed: Seed) -> None:
    assert (await create(seed, {}, message="é" * 16383)).status == 201
    over = await create(seed, {}, message="x" * 16384)
    assert over.status == 400 and over.body["id"] == "model.post.is_valid.msg.app_error"


async def test_update_and_patch_apply_the_same_limits_without_from_bot(seed: Seed) -> None:
    post = (await create(seed, {"k": "v"})).body
    path = f"/posts/{post['id']}"
    fits = {"k": "x" * (8000 - K_ONLY)}
    over = {"k": "x" * (8001 - K_ONLY)}
    put = await seed.rest.call(
        seed.bot, "PUT", path, {"id": post["id"], "message": "a", "props": over}
    )
    assert put.status == 400 and put.body["id"] == "model.post.is_valid.props.app_error"
    patch = await seed.rest.call(seed.bot, "PUT", path + "/patch", {"props": over})
    assert patch.status == 400 and patch.body["id"] == "model.post.is_valid.props.app_error"
    long = await seed.rest.call(seed.bot, "PUT", path + "/patch", {"message": "x" * 16384})
    assert long.status == 400 and long.body["id"] == "model.post.is_valid.msg.app_error"
    stored = seed.mm.get_post(post["id"])
    assert stored is not None and stored["props"]["k"] == "v" and stored["message"] == "m"
    put = await seed.rest.call(
        seed.bot, "PUT", path, {"id": post["id"], "message": "a", "props": fits}
    )
    assert put.status == 200, put.text
    patch = await seed.rest.call(seed.bot, "PUT", path + "/patch", {"props": fits})
    assert patch.status == 200, patch.text


async def test_an_action_update_over_the_limit_is_refused_and_changes_nothing(seed: Seed) -> None:
    button = {"id": "ack", "name": "Ack", "type": "button"}
    button["integration"] = {"url": seed.hook.url + "/action"}  # type: ignore[assignment]
    post = (await create(seed, {"attachments": [{"text": "t", "actions": [button]}]})).body
    big = {"attachments": [{"text": "x" * 8000, "actions": [button]}]}
    seed.hook.reply_json(
        "/action", {"update": {"message": "big", "props": big}, "ephemeral_text": "hi"}
    )
    click = await seed.mm.click(seed.alice, post["id"], "ack")
    assert click.status == 400 and click.body["id"] == "model.post.is_valid.props.app_error"
    stored = seed.mm.get_post(post["id"])
    assert stored is not None and stored["message"] == "m"
    assert seed.mm.ephemerals(seed.alice.id) == []  # the error ends the action before it
    small = {"attachments": [{"text": "ok", "actions": [button]}]}
    seed.hook.reply_json("/action", {"update": {"message": "small", "props": small}})
    assert (await seed.mm.click(seed.alice, post["id"], "ack")).status == 200
    assert seed.mm.get_post(post["id"])["message"] == "small"  # type: ignore[index]

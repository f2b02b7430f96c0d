"""REST routes: posts, reactions, files."""

from __future__ import annotations

import mimetypes

from aiohttp import BodyPartReader, web

from .errors import MattermostHTTPError, invalid_body, permission_error
from .plumbing import body_object, core_of, json_response, me, status_ok
from .state import FileRecord
from .util import Json, new_id, now_ms
from .wire import file_info_json, reaction_json

routes = web.RouteTableDef()
API = "/api/v4"


@routes.post(API + "/posts")
async def create_post(request: web.Request) -> web.Response:
    core = core_of(request)
    body = await body_object(request, "post")
    user = me(request)
    channel = core.state.channels.get(str(body.get("channel_id") or ""))
    if channel is None:
        raise permission_error(user.id, "create_post")
    post_type = str(body.get("type") or "")
    if post_type.startswith("system_"):
        raise MattermostHTTPError(400, "api.context.invalid_param.app_error", name="post.type")
    file_ids = body.get("file_ids")
    post = core.create_post(
        user,
        channel,
        str(body.get("message") or ""),
        props=body.get("props"),
        root_id=str(body.get("root_id") or ""),
        file_ids=[str(f) for f in file_ids] if isinstance(file_ids, list) else None,
        post_type=post_type,
        pending_post_id=str(body.get("pending_post_id") or ""),
    )
    return json_response(core.post_view(post), status=201)


@routes.post(API + "/posts/ephemeral")
async def create_ephemeral(request: web.Request) -> web.Response:
    core = core_of(request)
    user = me(request)
    if not user.is_admin:  # recorded fact 6: only system admins have create_post_ephemeral
        raise permission_error(user.id, "create_post_ephemeral")
    body = await body_object(request, "ephemeral_post")
    target = body.get("user_id")
    post = body.get("post")
    if not isinstance(target, str) or not target:
        raise invalid_body("user_id")
    if not isinstance(post, dict) or not post.get("channel_id"):
        raise invalid_body("post")
    sent = core.send_ephemeral(
        target,
        str(post["channel_id"]),
        str(post.get("message") or ""),
        sender_id=user.id,
        props=post.get("props"),
        root_id=str(post.get("root_id") or ""),
    )
    return json_response(core.ephemeral_view(sent), status=201)


@routes.get(API + "/posts/{post_id}")
async def get_post(request: web.Request) -> web.Response:
    core = core_of(request)
    return json_response(core.post_view(core.get_post(me(request), request.match_info["post_id"])))


@routes.put(API + "/posts/{post_id}")
async def update_post(request: web.Request) -> web.Response:
    core = core_of(request)
    post_id = request.match_info["post_id"]
    body = await body_object(request, "post")
    if body.get("id") != post_id:
        raise MattermostHTTPError(400, "api.context.invalid_param.app_error", name="id")
    post = core.update_post(
        me(request),
        post_id,
        str(body.get("message") or ""),
        body.get("props"),
        pinned=bool(body.get("is_pinned")),
    )
    return json_response(core.post_view(post))


@routes.put(API + "/posts/{post_id}/patch")
async def patch_post(request: web.Request) -> web.Response:
    core = core_of(request)
    patch = await body_object(request, "post")
    post = core.patch_post(me(request), request.match_info["post_id"], patch)
    return json_response(core.post_view(post))


@routes.delete(API + "/posts/{post_id}")
async def delete_post(request: web.Request) -> web.Response:
    core_of(request).delete_post(me(request), request.match_info["post_id"])
    return status_ok()


@routes.post(API + "/posts/{post_id}/pin")
async def pin(request: web.Request) -> web.Response:
    core_of(request).set_pinned(me(request), request.match_info["post_id"], True)
    return status_ok()


@routes.post(API + "/posts/{post_id}/unpin")
async def unpin(request: web.Request) -> web.Response:
    core_of(request).set_pinned(me(request), request.match_info["post_id"], False)
    return status_ok()


# ---- reactions ---------------------------------------------------------------
@routes.post(API + "/reactions")
async def save_reaction(request: web.Request) -> web.Response:
    body = await body_object(request, "reaction")
    user = me(request)
    if body.get("user_id") != user.id:
        raise MattermostHTTPError(403, "api.reaction.save_reaction.user_id.app_error")
    reaction = core_of(request).react(
        user, str(body.get("post_id") or ""), str(body.get("emoji_name") or "")
    )
    return json_response(reaction)


@routes.delete(API + "/users/{user_id}/posts/{post_id}/reactions/{emoji_name}")
async def delete_reaction(request: web.Request) -> web.Response:
    user = me(request)
    user_id = request.match_info["user_id"]
    core_of(request).unreact(
        user,
        user.id if user_id == "me" else user_id,
        request.match_info["post_id"],
        request.match_info["emoji_name"],
    )
    return status_ok()


@routes.get(API + "/posts/{post_id}/reactions")
async def list_reactions(request: web.Request) -> web.Response:
    """5.36 api4/reaction.go getReactions: ``read_channel`` at channel scope (members and
    system admins only, public channel or not)."""
    core = core_of(request)
    user = me(request)
    post = core.get_post(user, request.match_info["post_id"])
    core.state.require_channel_role(user, core.state.channel(post["channel_id"]), "read_channel")
    return json_response([reaction_json(r) for r in core.state.reactions.get(post["id"], [])])


# ---- files -------------------------------------------------------------------
def _mime(name: str) -> str:
    guessed, _ = mimetypes.guess_type(name)
    if name.lower().endswith(".md"):
        guessed = "text/markdown"
    if guessed and guessed.startswith("text/"):
        return guessed + "; charset=utf-8"
    return guessed or ""


@routes.post(API + "/files")
async def upload_files(request: web.Request) -> web.Response:
    core = core_of(request)
    user = me(request)
    if not request.content_type.startswith("multipart/"):
        raise invalid_body("files")
    channel_id = request.query.get("channel_id", "")
    uploads: list[tuple[str, bytes]] = []
    client_ids: list[str] = []
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            continue
        if part.name == "channel_id":
            channel_id = (await part.read()).decode()
        elif part.name == "client_ids":
            client_ids.append((await part.read()).decode())
        elif part.name == "files":
            uploads.append((part.filename or "file", bytes(await part.read())))
    channel = core.state.channels.get(channel_id)
    if not channel_id:
        raise invalid_body("channel_id")
    if channel is None or not (user.is_admin or core.state.is_member(user.id, channel.id)):
        raise permission_error(user.id, "upload_file")
    if not uploads:
        raise invalid_body("files")
    infos: list[Json] = []
    for name, data in uploads:
        rec = FileRecord(new_id(), user.id, channel.id, name, data, _mime(name), now_ms())
        core.state.files[rec.id] = rec
        infos.append(file_info_json(rec))
    return json_response({"file_infos": infos, "client_ids": client_ids}, status=201)


def _readable_file(request: web.Request) -> FileRecord:
    core = core_of(request)
    user = me(request)
    rec = core.state.files.get(request.match_info["file_id"])
    if rec is None:
        raise MattermostHTTPError(404, "app.file_info.get.app_error")
    post = core.live_post(rec.post_id) if rec.post_id else None
    channel = core.state.channels.get(post["channel_id"]) if post else None
    # 5.36 api4/file.go getFile/getFileInfo: the uploader, or read_channel at channel scope
    # on the file's post (members and system admins only).
    allowed = rec.user_id == user.id or (
        channel is not None and core.state.holds_channel_role(user, channel)
    )
    if not allowed:
        raise permission_error(user.id, "read_channel")
    return rec


@routes.get(API + "/files/{file_id}")
async def get_file(request: web.Request) -> web.Response:
    rec = _readable_file(request)
    return web.Response(
        body=rec.data,
        headers={
            "Content-Type": rec.mime_type or "application/octet-stream",
            "Content-Disposition": f'attachment;filename="{rec.name}"',
        },
    )


@routes.get(API + "/files/{file_id}/info")
async def get_file_info(request: web.Request) -> web.Response:
    return json_response(file_info_json(_readable_file(request), with_post=True))

"""``/incident playbook list|show|create|edit|delete|members|reload|import|export``.

A playbook is named by its title (quoted when it has spaces and more arguments follow:
``members "Service outage" add @bob``), by an unambiguous start of its title (``serv``), or
by its id. Only the playbooks the caller may see can be named.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from bot.domain.limits import IMPORT_FILE, STAGES_TEXT
from bot.domain.models import Playbook
from bot.errors import InputError, PermissionDenied
from bot.render import messages
from bot.render import playbook_dialogs as dialogs
from bot.render import playbooks as render
from bot.services import playbook_text
from bot.services.container import Services
from bot.services.playbook_file import PlaybookFileError
from bot.services.playbook_import import NotImportable, read
from bot.services.playbook_rules import Caller
from bot.services.ports import ChatRefused

from .router import CommandRequest, CommandRouter, Reply

DIALOG_TTL_MS = 60 * 60 * 1000
IMPORT_EXTENSIONS = ("json", "yaml", "yml")
IMPORT_FILE_MAX = IMPORT_FILE.most  # bytes of an attached file
IMPORT_LOOKBACK = 50  # posts of the channel searched for the caller's file
INLINE_EXPORT_MAX = 12_000
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')

Action = Callable[[Services, CommandRequest, str], Awaitable[Reply]]


def register(router: CommandRouter) -> None:
    router.add(
        "playbook",
        playbook,
        help=messages.SUBCOMMAND_HELP["playbook"],
    )


async def playbook(svc: Services, req: CommandRequest, args: list[str], rest: str) -> Reply:
    action, _, tail = rest.strip().partition(" ")
    handler = ACTIONS.get(action.lower())
    if handler is None:
        unknown = action if action.lower() not in ("", "help") else ""
        return Reply(render.playbook_help(unknown[:32]))
    return await handler(svc, req, tail.strip())


def tokens(text: str) -> list[str]:
    """Words, with "double quoted" groups kept whole (typographic quotes too)."""
    text = text.replace("\u201c", '"').replace("\u201d", '"')
    found = [m.group(1) if m.group(1) is not None else m.group(2) for m in _TOKEN.finditer(text)]
    if any('"' in t for t in found):
        raise InputError("unbalanced_quote", field="playbook")
    return found


def name_of(text: str) -> str:
    """The playbook named by all of ``text``: quotes optional."""
    words = tokens(text)
    if not words:
        raise InputError("missing_argument", field="playbook")
    return " ".join(words)


async def _caller(svc: Services, req: CommandRequest) -> Caller:
    return await svc.playbooks.caller(req.team_id, req.user_id)


async def list_(svc: Services, req: CommandRequest, tail: str) -> Reply:
    if tail:
        raise InputError("too_many_arguments", field="playbook")
    caller = await _caller(svc, req)
    visible = await svc.playbooks.visible(caller)
    editable = {pb.id for pb in visible if pb.source == "chat" and caller.edits(pb)}
    return Reply(render.playbook_list(visible, editable))


async def show(svc: Services, req: CommandRequest, tail: str) -> Reply:
    caller = await _caller(svc, req)
    pb = await svc.playbooks.find(caller, name_of(tail))
    names = await svc.directory.names([*pb.invite_user_ids, *pb.member_ids])
    return Reply(
        render.playbook_show(
            pb,
            names=names,
            broadcast=await svc.playbooks.broadcast_name(pb, req.user_id),
            stages_text=playbook_text.render(pb.stages),
            editable=pb.source == "chat" and caller.edits(pb),
        )
    )


def _state(svc: Services, req: CommandRequest, action: str, playbook_id: str = "") -> str:
    params = {"team": req.team_id, "channel": req.channel_id}
    if playbook_id:
        params["playbook"] = playbook_id
    return svc.signer.sign(
        action,
        expires_at=svc.clock.now_ms() + DIALOG_TTL_MS,
        user_id=req.user_id,
        one_shot=True,
        params=params,
    )


async def create(svc: Services, req: CommandRequest, tail: str) -> Reply:
    if tail:
        raise InputError("too_many_arguments", field="playbook")
    svc.playbooks.require_author(await _caller(svc, req))
    dialog = dialogs.playbook_dialog(
        url=svc.urls.dialog,
        state=_state(svc, req, "pb_create"),
        pb=None,
        stages_text="",
        invite="",
    )
    await svc.chat.open_dialog(req.trigger_id, dialog["url"], dialog["dialog"])
    return Reply()


async def _editable(svc: Services, req: CommandRequest, tail: str) -> Playbook:
    caller = await _caller(svc, req)
    found = await svc.playbooks.find(caller, name_of(tail))
    return await svc.playbooks.editable(caller, found.id)


async def edit(svc: Services, req: CommandRequest, tail: str) -> Reply:
    pb = await _editable(svc, req, tail)
    stages_text = playbook_text.render(pb.stages)
    if not STAGES_TEXT.fits(stages_text):
        raise PermissionDenied("too_long_to_edit")
    names = await svc.directory.names(pb.invite_user_ids)
    dialog = dialogs.playbook_dialog(
        url=svc.urls.dialog,
        state=_state(svc, req, "pb_edit", pb.id),
        pb=pb,
        stages_text=stages_text,
        invite=" ".join(names.at(u) for u in pb.invite_user_ids if names(u)),
    )
    await svc.chat.open_dialog(req.trigger_id, dialog["url"], dialog["dialog"])
    return Reply()


async def delete(svc: Services, req: CommandRequest, tail: str) -> Reply:
    pb = await _editable(svc, req, tail)
    dialog = dialogs.delete_dialog(
        url=svc.urls.dialog, state=_state(svc, req, "pb_delete", pb.id), pb=pb
    )
    await svc.chat.open_dialog(req.trigger_id, dialog["url"], dialog["dialog"])
    return Reply()


async def members(svc: Services, req: CommandRequest, tail: str) -> Reply:
    words = tokens(tail)
    verb_at = next((i for i, w in enumerate(words) if w.lower() in ("add", "remove")), None)
    name = " ".join(words[:verb_at] if verb_at is not None else words)
    if not name:
        raise InputError("missing_argument", field="playbook")
    caller = await _caller(svc, req)
    pb = await svc.playbooks.find(caller, name)
    if verb_at is None:
        return Reply(render.members_list(pb, await svc.directory.names(pb.member_ids)))
    add = words[verb_at].lower() == "add"
    usernames = words[verb_at + 1 :]
    if not usernames:
        raise InputError("members_action", field="playbook")
    pb = await svc.playbooks.editable(caller, pb.id)
    if add:
        ids = await svc.playbooks.team_users(req.team_id, usernames, field="playbook")
    else:
        ids = [(await svc.directory.by_username(u)).id for u in usernames]
    pb, changed = await svc.playbooks.change_members(caller, pb.id, add=add, user_ids=ids)
    names = await svc.directory.names([*pb.member_ids, *changed])
    return Reply(render.members_changed(pb, names, changed, add=add))


async def reload(svc: Services, req: CommandRequest, tail: str) -> Reply:
    if tail:
        raise InputError("too_many_arguments", field="playbook")
    if not await svc.directory.is_admin(req.user_id):
        raise PermissionDenied("admin_only")
    file = str(svc.playbooks.file)
    try:
        loaded = await svc.playbooks.reload()
    except PlaybookFileError as exc:
        return Reply(render.reload_failed(file, exc.problems))
    return Reply(render.reload_ok(file, loaded))


async def import_(svc: Services, req: CommandRequest, tail: str) -> Reply:
    if tail and tail.lower() != "paste":
        raise InputError("too_many_arguments", field="playbook")
    caller = await _caller(svc, req)
    svc.playbooks.require_author(caller)
    channel_readable = True
    try:
        found = None if tail else await _latest_file(svc, req)
    except NotImportable as exc:
        return Reply(render.import_failed(exc.reason, exc.problems))
    except ChatRefused:
        # The bot cannot read this channel's posts: on 5.36 read_channel is a channel-member
        # permission, so a public channel it has not joined is refused (403) as well. Saying
        # "attach the file here" would send the person round in a circle.
        found, channel_readable = None, False
    if found is None:
        dialog = dialogs.import_dialog(
            url=svc.urls.dialog,
            state=_state(svc, req, "pb_import"),
            channel_readable=channel_readable,
        )
        await svc.chat.open_dialog(req.trigger_id, dialog["url"], dialog["dialog"])
        return Reply()
    name, data = found
    try:
        draft = read(data.decode("utf-8-sig"))
        report = await svc.playbooks.import_draft(caller, draft)
    except UnicodeDecodeError:
        return Reply(render.import_failed("import_bad_json", [], name))
    except NotImportable as exc:
        return Reply(render.import_failed(exc.reason, exc.problems, name))
    return Reply(render.imported(report, name))


async def _latest_file(svc: Services, req: CommandRequest) -> tuple[str, bytes] | None:
    """The newest .json/.yaml file the caller posted among the channel's recent posts.

    Raises :class:`ChatRefused` when the bot may not read the channel's posts (5.36: it is
    not a member, public channel or not) and :class:`NotImportable` for a file found but
    not importable.
    """
    page = await svc.chat.channel_posts(req.channel_id, page=0, per_page=IMPORT_LOOKBACK)
    for post_id in page.order:
        post = page.posts.get(post_id)
        if post is None or post.user_id != req.user_id or post.delete_at:
            continue
        for file_id in post.file_ids:
            try:
                info = await svc.chat.get_file_info(file_id)
                if info.extension.lower() not in IMPORT_EXTENSIONS:
                    continue
                if info.size > IMPORT_FILE_MAX:
                    raise NotImportable("import_too_big")
                return info.name, await svc.chat.get_file(file_id)
            except ChatRefused:
                raise NotImportable("import_file_unreadable") from None
    return None


async def export(svc: Services, req: CommandRequest, tail: str) -> Reply:
    caller = await _caller(svc, req)
    pb = await svc.playbooks.find(caller, name_of(tail))
    text = await svc.playbooks.export(pb, req.user_id)
    if len(text) <= INLINE_EXPORT_MAX:
        return Reply(render.exported(pb, text))
    dm = await svc.chat.direct_channel(svc.bot_user_id, req.user_id)
    slug = re.sub(r"[^a-z0-9]+", "-", pb.title.lower()).strip("-") or "playbook"
    file_id = await svc.chat.upload_file(dm.id, f"{slug}.yaml", text.encode())
    await svc.chat.create_post(dm.id, render.exported_as_file(pb), file_ids=[file_id])
    return Reply(render.exported_as_file(pb))


ACTIONS: dict[str, Action] = {
    "list": list_,
    "show": show,
    "create": create,
    "edit": edit,
    "delete": delete,
    "members": members,
    "reload": reload,
    "import": import_,
    "export": export,
}

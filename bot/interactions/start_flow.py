"""Opening the start dialog: from the slash command, the help button, or a reaction on a post."""

from __future__ import annotations

from bot.domain.signing import Claims
from bot.errors import InputError, NotFound
from bot.interactions.router import ActionRequest, ActionResponse, InteractionRouter
from bot.log import get_logger
from bot.render import cards, dialogs, messages
from bot.services.container import Services
from bot.services.events import ReactionAdded
from bot.services.ports import ChatRefused

log = get_logger(__name__)

START_DIALOG_TTL_MS = 60 * 60 * 1000


async def open_start_dialog(
    svc: Services,
    *,
    user_id: str,
    team_id: str,
    team_name: str,
    channel_id: str,
    trigger_id: str,
    name: str = "",
    origin_post_id: str = "",
    playbook_id: str = "",
) -> str:
    """Open the dialog; returns a message for the user instead when they have no playbook."""
    playbooks = await svc.playbooks.usable(team_id, user_id)
    if not playbooks:
        return messages.no_playbook(team_name)
    description = ""
    if origin_post_id:
        description = await origin_description(
            svc, user_id=user_id, team_id=team_id, team_name=team_name, post_id=origin_post_id
        )
    state = svc.signer.sign(
        "start",
        expires_at=svc.clock.now_ms() + START_DIALOG_TTL_MS,
        user_id=user_id,
        one_shot=True,
        params={"team": team_id, "channel": channel_id, "origin": origin_post_id},
    )
    dialog = dialogs.start_dialog(
        url=svc.urls.dialog,
        state=state,
        playbooks=playbooks,
        name=name[: dialogs.NAME_MAX],
        description=description,
        severities=svc.severity_levels(),
        playbook_id=playbook_id,
    )
    await svc.chat.open_dialog(trigger_id, dialog["url"], dialog["dialog"])
    return ""


async def origin_description(
    svc: Services, *, user_id: str, team_id: str, team_name: str, post_id: str
) -> str:
    """A quote of and link to the origin post, if both the bot and the user may read it.

    The user's own rights decide (:meth:`Directory.readable_post`): a post in a channel they
    cannot read is refused exactly like a post that does not exist.
    """
    try:
        post, _ = await svc.directory.readable_post(post_id, user_id)
    except (NotFound, ChatRefused):
        raise InputError("post_not_visible", field="start") from None
    link = f"{svc.urls.mattermost}/{team_name}/pl/{post.id}"
    return messages.origin_description(post.message, link)


def register(router: InteractionRouter) -> None:
    router.action("startdialog", click_start)


async def click_start(svc: Services, req: ActionRequest, claims: Claims) -> ActionResponse:
    """The "Start incident" button: on the help reply, or offered after a reaction on a post."""
    team_id = str(claims.p.get("team", "")) or req.team_id
    if not team_id:
        raise InputError("not_team_member")
    if not await svc.chat.is_team_member(team_id, req.user_id):
        raise InputError("not_team_member")
    team_name = (
        req.team_domain if req.team_id == team_id else (await svc.chat.get_team(team_id)).name
    )
    text = await open_start_dialog(
        svc,
        user_id=req.user_id,
        team_id=team_id,
        team_name=team_name,
        channel_id=str(claims.p.get("channel", "")) or req.channel_id,
        trigger_id=req.trigger_id,
        origin_post_id=str(claims.p.get("post", "")),
        playbook_id=str(claims.p.get("playbook", "")),  # offered by a signal
    )
    return ActionResponse(ephemeral_text=text)


async def on_reaction(svc: Services, event: ReactionAdded) -> None:
    """The start emoji on any post offers the reactor a button that starts from that post."""
    reaction = event.reaction
    if reaction.emoji_name != svc.settings.start_emoji or reaction.user_id == svc.bot_user_id:
        return
    try:
        channel = await svc.chat.get_channel(event.channel_id)
    except ChatRefused:
        return  # a channel the bot cannot read: nothing to offer
    if not channel.team_id:
        return  # direct messages belong to no team
    params = {"team": channel.team_id, "channel": channel.id, "post": reaction.post_id}
    props = {
        "attachments": cards.start_button(
            svc.buttons,
            params=params,
            user_id=reaction.user_id,  # only the person who reacted may use the offer
        )
    }
    await svc.notifier.tell(reaction.user_id, channel.id, messages.start_from_post_prompt(), props)
    log.info("start_offered_from_reaction", post_id=reaction.post_id, user_id=reaction.user_id)

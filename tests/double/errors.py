"""Mattermost AppError: the one error type of the double."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, str] = {
    "api.context.session_expired.app_error": "Invalid or expired session, please login again.",
    "api.context.permissions.app_error": "You do not have the appropriate permissions.",
    "api.context.invalid_body_param.app_error": "Invalid or missing {name} in request body.",
    "api.context.invalid_param.app_error": "Invalid {name} parameter.",
    "api.context.invalid_url_param.app_error": (
        "Invalid or missing {name} parameter in request URL."
    ),
    "api.context.404.app_error": "Sorry, we could not find the page.",
    "app.user.missing_account.const": "Unable to find the user.",
    "app.user.get_by_username.app_error": (
        "Unable to find an existing account matching your username for this team. "
        "This team may require an invite from the team owner to join."
    ),
    "app.user.save.username_exists.app_error": "An account with that username already exists.",
    "app.team.get.find.app_error": "Unable to find the existing team.",
    "app.team.get_by_name.missing.app_error": "Unable to find the existing team.",
    "app.team.get_member.missing.app_error": "No team member found for that user ID and team ID.",
    "app.channel.get.existing.app_error": "Unable to find the existing channel.",
    "app.channel.get_by_name.missing.app_error": "Channel does not exist.",
    "app.channel.get_member.missing.app_error": (
        "No channel member found for that user ID and channel ID."
    ),
    "store.sql_channel.save_channel.exists.app_error": (
        "A channel with that name already exists on the same team."
    ),
    "model.channel.is_valid.2_or_more.app_error": (
        "Name must be 2 or more lowercase alphanumeric characters."
    ),
    "model.channel.is_valid.name.app_error": (
        "Invalid channel name. User ids are not permitted in channel name for non-direct"
        " message channels."
    ),
    "model.channel.is_valid.display_name.app_error": "Invalid display name.",
    "model.channel.is_valid.type.app_error": "Invalid type.",
    "model.channel.is_valid.header.app_error": "Invalid header.",
    "model.channel.is_valid.purpose.app_error": "Invalid purpose.",
    "api.channel.create_direct_channel.invalid_user.app_error": (
        "Invalid user ID for direct channel creation."
    ),
    "api.channel.remove_members.denied": "Channel membership removal denied.",
    "app.post.get.app_error": "Unable to get the post.",
    "api.post.create_post.root_id.app_error": "Invalid RootId parameter.",
    "model.post.is_valid.msg.app_error": "Invalid message.",
    "model.post.is_valid.props.app_error": "Invalid props.",
    "api.post.do_action.action_id.app_error": "Invalid action id.",
    "api.post.do_action.action_integration.app_error": "Action integration error.",
    "api.reaction.save_reaction.user_id.app_error": (
        "You cannot save reaction for the other user."
    ),
    "model.reaction.is_valid.emoji_name.app_error": "Invalid emoji name.",
    "api.file.upload_file.storage.app_error": (
        "Unable to upload file. Image storage is not configured."
    ),
    "api.file.upload_file.incorrect_channelId.app_error": (
        "Unable to upload the file. Incorrect channel ID: {name}"
    ),
    "app.file_info.get.app_error": "Unable to get the file info.",
    "api.command.duplicate_trigger.app_error": (
        "This trigger word is already in use. Please choose another word."
    ),
    "model.command.is_valid.trigger.app_error": "Invalid trigger.",
    "model.command.is_valid.url.app_error": "Invalid URL.",
    "model.command.is_valid.method.app_error": "Invalid Method.",
    "model.command.is_valid.team_id.app_error": "Invalid team ID.",
    "app.command.getcommand.app_error": "Unable to get the command.",
    "api.command.execute_command.start.app_error": "No command trigger found.",
    "api.command.execute_command.not_found.app_error": (
        "Command with a trigger of '{name}' not found. To send a message beginning with "
        '"/", try adding an empty space at the beginning of the message.'
    ),
    "api.command.execute_command.failed.app_error": "Command with a trigger of '{name}' failed.",
    "web.command_webhook.invalid.app_error": "Invalid webhook.",
    "web.command_webhook.parse.app_error": "Unable to parse incoming data.",
    "interactive_message.decode_trigger_id.failed": (
        "Failed to decode trigger ID for interactive dialog."
    ),
    "interactive_message.decode_trigger_id.expired": (
        "Trigger ID for interactive dialog is expired. "
        "Trigger IDs live for a maximum of {name} seconds."
    ),
    "api.bot.create_disabled": "Bot creation has been disabled.",
    "api.command.disabled.app_error": "Commands have been disabled by the system admin.",
    "api.user.update_user_roles.bad_role": "Invalid roles.",
    "double.outage": "The server is unavailable (outage simulated by the test double).",
    "double.injected_failure": "Failure injected by the test double.",
}


class MattermostHTTPError(Exception):
    """An error the (double of the) Mattermost server answers with.

    Raised by the user-side helpers of `MattermostDouble`; also the internal
    error type of the server, rendered as the recorded error body.
    """

    def __init__(
        self,
        status: int,
        error_id: str,
        message: str | None = None,
        detailed_error: str = "",
        *,
        name: str = "",
    ) -> None:
        if message is None:
            message = MESSAGES.get(error_id, error_id).replace("{name}", name)
        super().__init__(f"{status} {error_id}: {message}")
        self.status = status
        self.error_id = error_id
        self.message = message
        self.detailed_error = detailed_error

    def body(self, request_id: str) -> dict[str, Any]:
        return {
            "id": self.error_id,
            "message": self.message,
            "detailed_error": self.detailed_error,
            "request_id": request_id,
            "status_code": self.status,
        }


def permission_error(user_id: str, permission: str) -> MattermostHTTPError:
    return MattermostHTTPError(
        403,
        "api.context.permissions.app_error",
        detailed_error=f"userId={user_id}, permission={permission},",
    )


def invalid_body(name: str) -> MattermostHTTPError:
    return MattermostHTTPError(400, "api.context.invalid_body_param.app_error", name=name)


def invalid_param(name: str) -> MattermostHTTPError:
    return MattermostHTTPError(400, "api.context.invalid_param.app_error", name=name)


def user_not_found(user_id: str) -> MattermostHTTPError:
    return MattermostHTTPError(
        404, "app.user.missing_account.const", detailed_error=f"resource: User id: {user_id}"
    )


def team_member_missing(team_id: str, user_id: str) -> MattermostHTTPError:
    return MattermostHTTPError(
        404,
        "app.team.get_member.missing.app_error",
        detailed_error=f"resource: TeamMember id: teamId={team_id}, userId={user_id}",
    )


def post_not_found(post_id: str) -> MattermostHTTPError:
    return MattermostHTTPError(
        404, "app.post.get.app_error", detailed_error=f"resource: Post id: {post_id}"
    )


def channel_not_found(channel_id: str) -> MattermostHTTPError:
    return MattermostHTTPError(
        404,
        "app.channel.get.existing.app_error",
        detailed_error=f"resource: Channel id: {channel_id}",
    )


MESSAGES.update(
    {
        "api.channel.add_user_to_channel.type.app_error": "Can not add user to this channel type.",
        "api.channel.remove_user_from_channel.type.app_error": (
            "Can not remove user from this channel type."
        ),
        "api.channel.patch_update_channel.forbidden.app_error": ("Failed to patch the channel."),
    }
)
MESSAGES.update(
    {
        "model.user.is_valid.username.app_error": "Invalid username.",
        "store.sql_bot.get.missing.app_error": "Bot does not exist.",
        "api.command.team_mismatch.app_error": "Unable to update commands across teams.",
    }
)


def channel_member_missing(channel_id: str, user_id: str) -> MattermostHTTPError:
    return MattermostHTTPError(
        404,
        "app.channel.get_member.missing.app_error",
        detailed_error=f"resource: ChannelMember id: channelId={channel_id}, userId={user_id}",
    )

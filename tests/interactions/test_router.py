"""Answers to buttons as Mattermost receives them."""

from bot.interactions.router import ActionResponse


def test_rule_every_action_answer_skips_slack_parsing() -> None:
    """Mattermost rewrites <target|label> in ephemeral_text unless the answer says not to."""
    assert ActionResponse().to_json() == {"skip_slack_parsing": True}
    body = ActionResponse(ephemeral_text="<a|b>", update={"message": "m"}).to_json()
    assert body == {
        "skip_slack_parsing": True,
        "ephemeral_text": "<a|b>",
        "update": {"message": "m"},
    }

"""Answers to buttons and dialogs as Mattermost receives them."""

from types import SimpleNamespace

from structlog.testing import capture_logs

from bot.domain.signing import Claims, Signer
from bot.interactions.router import (
    ActionResponse,
    DialogResponse,
    DialogSubmission,
    InteractionRouter,
)


def test_rule_every_action_answer_skips_slack_parsing() -> None:
    """Mattermost rewrites <target|label> in ephemeral_text unless the answer says not to."""
    assert ActionResponse().to_json() == {"skip_slack_parsing": True}
    body = ActionResponse(ephemeral_text="<a|b>", update={"message": "m"}).to_json()
    assert body == {
        "skip_slack_parsing": True,
        "ephemeral_text": "<a|b>",
        "update": {"message": "m"},
    }


class Nonces:
    """Records which nonces were looked up and spent (in memory)."""

    def __init__(self) -> None:
        self.used: set[str] = set()
        self.looked: list[str] = []

    async def is_used(self, nonce: str) -> bool:
        self.looked.append(nonce)
        return nonce in self.used

    async def consume(self, nonce: str, *, expires_at: int, now: int) -> bool:
        fresh = nonce not in self.used
        self.used.add(nonce)
        return fresh


async def test_a_dialog_whose_change_spent_its_nonce_is_not_looked_up_again() -> None:
    """One read of the nonce (the replay check) when the handler says it spent it; two, and
    the nonce spent by the router, when it does not say so."""
    router, nonces = InteractionRouter(), Nonces()
    signer = Signer(b"k" * 32)
    svc = SimpleNamespace(clock=SimpleNamespace(now_ms=lambda: 1000), signer=signer, nonces=nonces)
    user = "u" * 26

    async def spends(svc: object, sub: DialogSubmission, claims: Claims) -> DialogResponse:
        nonces.used.add(claims.n)  # as a service spends it in the transaction of its change
        return DialogResponse(spent=True)

    async def leaves(svc: object, sub: DialogSubmission, claims: Claims) -> DialogResponse:
        return DialogResponse()

    router.dialog("spends", spends)
    router.dialog("leaves", leaves)
    for name, reads in (("spends", 1), ("leaves", 2)):
        state = signer.sign(name, expires_at=10_000, user_id=user, one_shot=True)
        sub = DialogSubmission(callback_id=name, state=state, user_id=user)
        nonces.looked.clear()
        assert await router.handle_dialog(svc, sub) == DialogResponse(spent=name == "spends")  # type: ignore[arg-type]
        assert len(nonces.looked) == reads, name
        assert nonces.looked[0] in nonces.used  # spent either way
        with capture_logs() as logged:
            again = await router.handle_dialog(svc, sub)  # type: ignore[arg-type]
        assert again.error and logged[0]["event"] == "dialog_replayed"  # a replay is refused

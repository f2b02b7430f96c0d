import pytest

from bot.interactions.signing import BadSignature, Signer

KEY = b"k" * 32


def test_round_trip_binds_action_incident_user_and_params() -> None:
    signer = Signer(KEY)
    token = signer.sign("end", expires_at=2000, incident_id="inc", user_id="u1", params={"s": 1})
    claims = signer.verify(token, action="end", user_id="u1", now=1000)
    assert (claims.a, claims.i, claims.u, claims.p) == ("end", "inc", "u1", {"s": 1})


@pytest.mark.parametrize(
    ("action", "user", "now", "reason"),
    [
        ("restart", "u1", 1000, "wrong action"),
        ("end", "u2", 1000, "wrong user"),
        ("end", "u1", 3000, "expired"),
    ],
)
def test_rejects_other_action_user_or_late_use(
    action: str, user: str, now: int, reason: str
) -> None:
    signer = Signer(KEY)
    token = signer.sign("end", expires_at=2000, user_id="u1")
    with pytest.raises(BadSignature, match=reason):
        signer.verify(token, action=action, user_id=user, now=now)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", None, 42, "x" * 5000, "!!!.???"])
def test_rejects_malformed(token: object) -> None:
    with pytest.raises(BadSignature):
        Signer(KEY).verify(token, action="end", user_id="u", now=0)


def test_rejects_forgery_and_other_keys() -> None:
    token = Signer(KEY).sign("end", expires_at=2000)
    body, mac = token.split(".")
    tampered_body = body[:-2] + ("AA" if body[-2:] != "AA" else "BB")
    with pytest.raises(BadSignature):
        Signer(KEY).verify(f"{tampered_body}.{mac}", action="end", user_id="", now=0)
    with pytest.raises(BadSignature, match="forged"):
        Signer(b"z" * 32).verify(token, action="end", user_id="", now=0)


def test_one_shot_tokens_carry_distinct_nonces() -> None:
    signer = Signer(KEY)
    a = signer.verify(signer.sign("x", expires_at=9, one_shot=True), action="x", user_id="", now=0)
    b = signer.verify(signer.sign("x", expires_at=9, one_shot=True), action="x", user_id="", now=0)
    assert a.n and b.n and a.n != b.n

import hashlib
import hmac
import json

import pytest

from bot.domain.signing import BadSignature, Signer, _b64, without_expiry
from bot.interactions.buttons import post_digest

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


def legacy_token(claims: dict[str, object], key: bytes = KEY) -> str:
    """A token in the JSON form every warroom before compact tokens issued."""
    body = json.dumps(claims, separators=(",", ":")).encode()
    mac = hmac.new(key, body, hashlib.sha256).digest()
    return f"{_b64(body)}.{_b64(mac)}"


def test_rejects_forgery_and_other_keys() -> None:
    token = Signer(KEY).sign("end", expires_at=2000)
    body, mac = token.rsplit(".", 1)
    for tampered in (body.replace("end", "enx"), body[:-1] + "1"):
        with pytest.raises(BadSignature):
            Signer(KEY).verify(f"{tampered}.{mac}", action="end", user_id="", now=0)
    with pytest.raises(BadSignature, match="forged"):
        Signer(b"z" * 32).verify(token, action="end", user_id="", now=0)
    legacy = legacy_token({"a": "end", "x": 2000})
    lbody, lmac = legacy.split(".")
    with pytest.raises(BadSignature, match="forged"):
        Signer(KEY).verify(f"{lbody[:-2]}AA.{lmac}", action="end", user_id="", now=0)


def test_button_tokens_are_compact_and_bind_every_claim() -> None:
    """A task button's token is short (post props are capped) yet binds each of its claims."""
    signer = Signer(KEY)
    incident = "i" * 26
    params = {"t": "0a1b2c3d", "to": "done", "ran": None, "from": 2, "ok": True}
    token = signer.sign(
        "taskcheck", expires_at=1_800_000_000_000, incident_id=incident, params=params
    )
    assert len(token) <= 120 and token.startswith("2.")
    claims = signer.verify(token, action="taskcheck", user_id="anyone", now=0)
    assert (claims.a, claims.i, claims.x, claims.p) == (
        "taskcheck",
        incident,
        1_800_000_000_000,
        params,
    )
    body, mac = token.rsplit(".", 1)
    fields = body.split(".")
    for index in range(1, len(fields)):
        changed = [*fields]
        changed[index] = changed[index] + "0" if changed[index] else "x"
        with pytest.raises(BadSignature):
            signer.verify(".".join([*changed, mac]), action="taskcheck", user_id="", now=0)
    with pytest.raises(BadSignature, match="forged"):
        signer.verify(
            f"{body}.{mac[:-1]}A" if mac[-1] != "A" else f"{body}.{mac[:-1]}B",
            action="taskcheck",
            user_id="",
            now=0,
        )


def test_user_bound_one_shot_and_expiring_compact_tokens() -> None:
    signer = Signer(KEY)
    token = signer.sign("x", expires_at=5000, user_id="u1", incident_id="i", one_shot=True)
    claims = signer.verify(token, action="x", user_id="u1", now=4000)
    assert claims.n and claims.u == "u1"
    with pytest.raises(BadSignature, match="wrong user"):
        signer.verify(token, action="x", user_id="u2", now=0)
    with pytest.raises(BadSignature, match="expired"):
        signer.verify(token, action="x", user_id="u1", now=5001)


def test_other_parameters_and_tokens_issued_before_still_verify() -> None:
    signer = Signer(KEY)
    token = signer.sign("x", expires_at=9, params={"title": "Disk full!", "n": [1]})
    assert token.count(".") == 1  # no compact form for free text: the JSON form
    assert signer.verify(token, action="x", user_id="", now=0).p == {
        "title": "Disk full!",
        "n": [1],
    }
    old = legacy_token({"a": "taskcheck", "x": 9, "i": "inc", "p": {"t": "s0t1", "to": "done"}})
    assert signer.verify(old, action="taskcheck", user_id="", now=0).p["t"] == "s0t1"


def test_one_shot_tokens_carry_distinct_nonces() -> None:
    signer = Signer(KEY)
    a = signer.verify(signer.sign("x", expires_at=9, one_shot=True), action="x", user_id="", now=0)
    b = signer.verify(signer.sign("x", expires_at=9, one_shot=True), action="x", user_id="", now=0)
    assert a.n and b.n and a.n != b.n


def test_without_expiry_keeps_what_a_token_grants_and_drops_when_it_was_signed() -> None:
    """Two renders of the same button a day apart compare equal; another grant does not."""
    signer = Signer(KEY)
    for params in ({"s": 1}, {"note": "not plain: JSON form"}):
        sign = signer.sign
        today = sign("end", expires_at=2000, incident_id="inc", user_id="u1", params=params)
        later = sign("end", expires_at=9000, incident_id="inc", user_id="u1", params=params)
        other = sign("end", expires_at=2000, incident_id="inc2", user_id="u1", params=params)
        assert today != later
        assert without_expiry(today) == without_expiry(later) != without_expiry(other)
    assert without_expiry("not a token") == "not a token"


def test_post_digest_ignores_button_expiry_only() -> None:
    def card(expires_at: int, title: str) -> dict[str, object]:
        token = Signer(KEY).sign("end", expires_at=expires_at, incident_id="inc")
        button = {"id": "end", "integration": {"url": "u", "context": {"token": token}}}
        return {"attachments": [{"title": title, "actions": [button]}]}

    assert post_digest("", card(1, "Disk")) == post_digest("", card(2, "Disk"))
    assert post_digest("", card(1, "Disk")) != post_digest("", card(1, "Disk full"))
    assert post_digest("", card(1, "Disk")) != post_digest("x", card(1, "Disk"))

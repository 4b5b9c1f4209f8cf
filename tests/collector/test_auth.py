"""Credentials: HS256/RS256/ES256 tokens, API keys, anonymous only when configured."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import timedelta

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from eventlake.collector.app import CollectorApp
from eventlake.config import ConfigError

from .helpers import API_KEY, SECRET, T0, bearer, collector_settings, event, landed_events, post_events, serve, token

pytestmark = pytest.mark.collector


def _b64(document: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()


def hs256_with_raw_key(key: bytes) -> str:
    """An HS256 token keyed with arbitrary bytes (pyjwt refuses PEM text as an HMAC secret)."""
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}.{_b64({'sub': 'x', 'exp': 9999999999})}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def unsigned_token(sub: str = "user-1") -> str:
    def part(document: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(document).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part({'sub': sub, 'exp': int((T0 + timedelta(hours=1)).timestamp())})}."


@pytest.mark.parametrize(
    "headers, detail",
    [
        ({}, "credentials required: Authorization: Bearer <token> or X-API-Key"),
        ({"authorization": "Bearer " + token(exp=T0 - timedelta(minutes=5))}, "token expired"),
        ({"authorization": "Bearer " + unsigned_token()}, "token algorithm 'none' is not accepted"),
        ({"authorization": "Bearer " + token(key="another-secret-another-secret-another!")}, "token signature does not verify"),
        ({"authorization": "Bearer not.a.token"}, "malformed token"),
        ({"authorization": "Bearer"}, "the Authorization header must be 'Bearer <token>'"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "the Authorization header must be 'Bearer <token>'"),
        ({"authorization": "Bearer " + jwt.encode({"sub": "u"}, SECRET, algorithm="HS256")}, "token lacks the 'exp' claim"),
        ({"authorization": "Bearer " + token(nbf=int((T0 + timedelta(hours=1)).timestamp()))}, "token not valid yet"),
        ({"authorization": "Bearer " + token(sub="x" * 65)}, "token 'sub' must be a string of 1 to 64 characters"),
        ({"x-api-key": "wrong-key"}, "unknown API key"),
    ],
)
def test_bad_credentials_are_401_and_nothing_is_written(tmp_path, headers, detail):
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            response = post_events(client, [event()], headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == 'Bearer realm="eventlake"'
    assert response.json()["detail"] == detail
    assert landed_events(running.lake) == []


def test_a_token_expires_by_the_collectors_clock(collector):
    headers = bearer(exp=T0 + timedelta(minutes=10))
    with collector.client() as client:
        assert post_events(client, [event()], headers=headers).status_code == 202
        collector.clock.advance(minutes=11)  # 30 s leeway included
        assert post_events(client, [event()], headers=headers).status_code == 401


def _pem(private_key) -> str:
    return private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


@pytest.mark.parametrize(
    "algorithm, make_key",
    [
        ("RS256", lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048)),
        ("ES256", lambda: ec.generate_private_key(ec.SECP256R1())),
    ],
)
def test_public_key_tokens(tmp_path, algorithm, make_key):
    private_key, other_key = make_key(), make_key()
    settings = collector_settings(tmp_path, EVENTLAKE_JWT_SECRET=None, EVENTLAKE_API_KEYS=None,
                                  EVENTLAKE_JWT_PUBLIC_KEY=_pem(private_key).replace("\n", "\\n"))
    with serve(settings) as running:
        with running.client() as client:
            good = post_events(client, [event(event_id="signed")],
                               headers=bearer("rs-user", key=private_key, algorithm=algorithm))
            forged = post_events(client, [event()], headers=bearer(key=other_key, algorithm=algorithm))
            # the HS256 "key confusion" trick: sign with the public key text as an HMAC secret
            confused = post_events(client, [event()], headers={"authorization": "Bearer " + hs256_with_raw_key(
                _pem(private_key).encode())})
    assert good.status_code == 202
    assert (forged.status_code, forged.json()["detail"]) == (401, "token signature does not verify")
    assert (confused.status_code, confused.json()["detail"]) == (401, "token algorithm 'HS256' is not accepted")
    assert [(e["event_id"], e["user_id"]) for e in landed_events(running.lake)] == [("signed", "rs-user")]


def test_without_any_credential_configured_the_collector_refuses_to_start(tmp_path):
    settings = collector_settings(tmp_path, EVENTLAKE_JWT_SECRET=None, EVENTLAKE_API_KEYS=None)
    with pytest.raises(ConfigError, match="the collector needs credentials to check"):
        CollectorApp(settings)


def test_anonymous_writes_only_when_explicitly_allowed(tmp_path):
    settings = collector_settings(tmp_path, EVENTLAKE_JWT_SECRET=None, EVENTLAKE_API_KEYS=None,
                                  EVENTLAKE_ALLOW_ANONYMOUS="true")
    with serve(settings) as running:
        with running.client() as client:
            response = post_events(client, [event(event_id="anon", user_id="claimed")], headers={})
    assert response.status_code == 202
    assert [(e["event_id"], e["user_id"]) for e in landed_events(running.lake)] == [("anon", "claimed")]


def test_api_key_is_accepted(collector):
    with collector.client() as client:
        assert post_events(client, [event()], headers={"x-api-key": API_KEY}).status_code == 202


def hs256_from_text(payload: str, key: bytes = SECRET.encode()) -> str:
    """An HS256 token over a payload written as raw JSON text (pyjwt cannot write 1e400)."""
    signing_input = f"{_b64({'alg': 'HS256', 'typ': 'JWT'})}." + base64.urlsafe_b64encode(
        payload.encode()).rstrip(b"=").decode()
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


GOOD_EXP = int((T0 + timedelta(hours=1)).timestamp())


@pytest.mark.parametrize(
    "payload, claim",
    [
        ('{"sub": "u", "exp": NaN}', "exp"),
        ('{"sub": "u", "exp": Infinity}', "exp"),
        ('{"sub": "u", "exp": 1e400}', "exp"),
        ('{"sub": "u", "exp": ' + "9" * 400 + "}", "exp"),  # an exact integer no double can hold
        ('{"sub": "u", "exp": "9999999999"}', "exp"),
        ('{"sub": "u", "exp": true}', "exp"),
        (f'{{"sub": "u", "exp": {GOOD_EXP}, "nbf": NaN}}', "nbf"),
        (f'{{"sub": "u", "exp": {GOOD_EXP}, "nbf": -Infinity}}', "nbf"),
        (f'{{"sub": "u", "exp": {GOOD_EXP}, "iat": Infinity}}', "iat"),
        (f'{{"sub": "u", "exp": {GOOD_EXP}, "iat": "yesterday"}}', "iat"),
    ],
)
def test_time_claims_must_be_finite_numbers(collector, payload, claim):
    """pyjwt reads NaN, Infinity and 1e400 (as inf) from the payload; with its own time checks
    off, `exp` NaN or Infinity used to compare as never expired."""
    with collector.client() as client:
        response = post_events(client, [event()], headers={"authorization": "Bearer " + hs256_from_text(payload)})
        # the same signing path with a sound payload passes: the refusal is the claim's doing
        sound = post_events(client, [event()], headers={
            "authorization": "Bearer " + hs256_from_text(f'{{"sub": "u", "exp": {GOOD_EXP}, "iat": {GOOD_EXP - 60}}}')})
    assert (response.status_code, response.json()["detail"]) == (401, f"token {claim!r} is not a finite number")
    assert sound.status_code == 202


def test_a_token_decides_the_user_even_when_it_names_none(tmp_path):
    """Contract §2: the collector sets user_id from the token's `sub` when a token is
    presented. A token without `sub` must not let its client pick the user: user_id is null."""
    with serve(collector_settings(tmp_path)) as running:
        with running.client() as client:
            named = post_events(client, [event(event_id="named", user_id="someone-else")], headers=bearer("user-1"))
            unnamed = post_events(client, [event(event_id="unnamed", user_id="someone-else")], headers=bearer(None))
    assert (named.status_code, unnamed.status_code) == (202, 202)
    assert {e["event_id"]: e["user_id"] for e in landed_events(running.lake)} == {"named": "user-1", "unnamed": None}


def test_a_sub_that_is_no_unicode_text_is_401_on_every_route(collector):
    """A JSON escape of a lone surrogate decodes to a string no UTF-8 line can hold."""
    headers = {"authorization": "Bearer " + hs256_from_text(f'{{"sub": "u\\ud800", "exp": {GOOD_EXP}}}'),
               "content-type": "application/json"}
    play = {"eventType": "play_start", "trackId": "01HXK5Z8Q4M3N2P1R0S9T8V7W6",
            "clientTimestamp": T0.isoformat().replace("+00:00", "Z")}
    with collector.client() as client:
        responses = [
            post_events(client, [event()], headers=headers),
            client.post("/telemetry/playback", content=json.dumps(play), headers=headers),
        ]
    for response in responses:
        assert (response.status_code, response.json()["detail"]) == (
            401, "token 'sub' must be a string of 1 to 64 characters")
    assert landed_events(collector.lake) == []

"""Who is posting: a Bearer JWT (clients), an API key (server-side producers), or nobody
(only when the operator allowed anonymous writes explicitly).

Tokens are verified with an explicit algorithm allow-list derived from the configured key:
HS256 for EVENTLAKE_JWT_SECRET, RS256 or ES256 for the PEM in EVENTLAKE_JWT_PUBLIC_KEY.
`alg: none` and any algorithm that does not match a configured key are refused before the
signature is looked at. Expiry is checked against the collector's own (injectable) clock.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import jwt

from eventlake.config import ConfigError, Settings

if TYPE_CHECKING:  # cryptography is imported only when a public key is configured
    from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

LEEWAY_SECONDS = 30  # tolerated clock difference between the token issuer and us
MAX_SUBJECT_LENGTH = 64
# Verified tokens are remembered (the signature check is the costliest step of a request);
# expiry is still checked on every use. Bounded: the cache is cleared when it fills up.
TOKEN_CACHE_SIZE = 20_000


class AuthError(Exception):
    """401: missing, malformed, unsigned, wrongly signed or expired credentials."""


@dataclass(frozen=True)
class Principal:
    kind: str  # "user" (a JWT), "producer" (an API key) or "anonymous"
    user_id: str | None = None  # the token's `sub`
    key_id: str | None = None  # which configured API key (its position), for per-key limits


ANONYMOUS = Principal("anonymous")


def _load_public_key(text: str) -> tuple[str, RSAPublicKey | EllipticCurvePublicKey]:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    if not text.lstrip().startswith("-----BEGIN") and Path(text).is_file():
        text = Path(text).read_text("utf-8")
    # A PEM squeezed into one environment variable line often carries literal "\n".
    text = text.replace("\\n", "\n")
    try:
        key = load_pem_public_key(text.encode("utf-8"))
    except ValueError:
        raise ConfigError("EVENTLAKE_JWT_PUBLIC_KEY is not a PEM public key (or a file holding one)") from None
    if isinstance(key, rsa.RSAPublicKey):
        return "RS256", key
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return "ES256", key
    raise ConfigError("EVENTLAKE_JWT_PUBLIC_KEY must be an RSA key (RS256) or a P-256 EC key (ES256)")


class Authenticator:
    def __init__(self, settings: Settings, clock: Callable[[], datetime]):
        self._clock = clock
        self._keys: dict[str, str | RSAPublicKey | EllipticCurvePublicKey] = {}
        if settings.jwt_secret:
            self._keys["HS256"] = settings.jwt_secret
        if settings.jwt_public_key:
            algorithm, key = _load_public_key(settings.jwt_public_key)
            self._keys[algorithm] = key
        self._api_keys = tuple(key.encode("utf-8") for key in settings.api_keys)
        self._producers = tuple(Principal("producer", key_id=f"key-{n}") for n in range(len(self._api_keys)))
        self._audience = settings.jwt_audience
        self._issuer = settings.jwt_issuer
        self.allow_anonymous = settings.allow_anonymous
        self._verified: dict[str, tuple[float, float | None, str | None]] = {}
        if not self._keys and not self._api_keys and not self.allow_anonymous:
            raise ConfigError(
                "the collector needs credentials to check: set EVENTLAKE_JWT_SECRET, "
                "EVENTLAKE_JWT_PUBLIC_KEY or EVENTLAKE_API_KEYS "
                "(or EVENTLAKE_ALLOW_ANONYMOUS=true to accept unauthenticated writes)"
            )

    @property
    def algorithms(self) -> tuple[str, ...]:
        return tuple(self._keys)

    def authenticate(self, authorization: bytes | None, api_key: bytes | None, *, basic: bool = False) -> Principal:
        """`basic`: HTTP Basic is accepted too, its user name an API key (Segment's write key)."""
        if authorization is not None:
            scheme, _, token = authorization.decode("latin-1").strip().partition(" ")
            if basic and scheme.lower() == "basic":
                return self._check_api_key(_basic_user(token.strip()))
            if scheme.lower() != "bearer" or not token.strip():
                wanted = "'Basic <write key>:' or 'Bearer <token>'" if basic else "'Bearer <token>'"
                raise AuthError(f"the Authorization header must be {wanted}")
            return self._verify(token.strip())
        if api_key is not None:
            return self._check_api_key(api_key)
        if self.allow_anonymous:
            return ANONYMOUS
        raise AuthError("credentials required: Authorization: Bearer <token> or X-API-Key")

    def _check_api_key(self, presented: bytes) -> Principal:
        # Compare with every key, without stopping at a match, so timing says nothing.
        matched = None
        for n, key in enumerate(self._api_keys):
            if hmac.compare_digest(presented, key):
                matched = n
        if matched is None:
            raise AuthError("unknown API key")
        return self._producers[matched]

    def _verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is None:
            known = self._verify_signature(token)
            if len(self._verified) >= TOKEN_CACHE_SIZE:
                self._verified.clear()
            self._verified[token] = known
        exp, nbf, subject = known
        now = self._clock().timestamp()
        if exp + LEEWAY_SECONDS <= now:
            raise AuthError("token expired")
        if nbf is not None and nbf - LEEWAY_SECONDS > now:
            raise AuthError("token not valid yet")
        return Principal("user", subject)

    def _verify_signature(self, token: str) -> tuple[float, float | None, str | None]:
        """(exp, nbf, sub) of a token whose signature and claims are well-formed."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed token") from None
        algorithm = header.get("alg")
        key = self._keys.get(algorithm) if isinstance(algorithm, str) else None
        if key is None:
            raise AuthError(f"token algorithm {str(algorithm)[:16]!r} is not accepted")
        assert isinstance(algorithm, str)  # a key was found under it
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                issuer=self._issuer,
                # Time claims are checked below against our clock, not the library's.
                options={
                    "require": ["exp"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": self._audience is not None,
                    "verify_iss": self._issuer is not None,
                },
            )
        except jwt.InvalidSignatureError:
            raise AuthError("token signature does not verify") from None
        except jwt.MissingRequiredClaimError as error:
            raise AuthError(f"token lacks the {error.claim!r} claim") from None
        except jwt.PyJWTError as error:
            raise AuthError(f"invalid token: {error}") from None
        exp, nbf = claims.get("exp"), claims.get("nbf")
        # PyJWT parses the payload with the standard json module, which reads NaN, Infinity
        # and 1e400 (→ inf) as floats; with PyJWT's own time checks off, an `exp` of NaN or
        # Infinity would compare as "never expired". Every time claim must be a finite number.
        for claim in ("exp", "nbf", "iat"):
            value = claims.get(claim)
            if (value is not None or claim == "exp") and not _is_finite_number(value):
                raise AuthError(f"token {claim!r} is not a finite number")
        subject = claims.get("sub")
        if subject is not None and (
            not isinstance(subject, str) or not subject or len(subject) > MAX_SUBJECT_LENGTH
            or not _is_unicode_text(subject)
        ):
            raise AuthError(f"token 'sub' must be a string of 1 to {MAX_SUBJECT_LENGTH} characters")
        assert exp is not None  # the loop above refused a missing exp
        return float(exp), (float(nbf) if nbf is not None else None), subject


def _is_unicode_text(text: str) -> bool:
    """False for a string holding a lone surrogate (a JSON "\ud800" escape), which no UTF-8
    line in the lake can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _basic_user(credentials: str) -> bytes:
    """The user name of HTTP Basic credentials (RFC 7617: base64 of `user:password`)."""
    try:
        decoded = base64.b64decode(credentials, validate=True)
    except (binascii.Error, ValueError):
        raise AuthError("malformed Basic credentials") from None
    user, _, _ = decoded.partition(b":")
    if not user:
        raise AuthError("the Basic user name must be a write key")
    return user


def _is_finite_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    try:
        return math.isfinite(value)  # an int beyond a double's range overflows: not finite
    except OverflowError:
        return False

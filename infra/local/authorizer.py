"""Verifies Cognito id tokens for the local API the way API Gateway's Cognito authorizer does.

Only RS256 tokens signed by a key in the user pool's JWKS (served by the moto server) are trusted,
and only id tokens issued by that pool for the app client. Anything else raises an ``InvalidToken``
subclass naming what was wrong; the API server turns it into a 401.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

import jwt

ALGORITHM = "RS256"
TOKEN_USE = "id"
REQUIRED_CLAIMS = ("sub", "iss", "aud", "exp", "iat", "token_use")
LEEWAY_SECONDS = 30  # clock skew tolerated on exp / nbf / iat
REFETCH_INTERVAL_SECONDS = 10.0  # a flood of unknown kids must not become a flood of JWKS fetches


class InvalidToken(Exception):
    """The request carries no token that can be trusted."""


class MissingToken(InvalidToken):
    pass


class MalformedToken(InvalidToken):
    pass


class UnsupportedAlgorithm(InvalidToken):
    pass


class UnknownSigningKey(InvalidToken):
    pass


class BadSignature(InvalidToken):
    pass


class ExpiredToken(InvalidToken):
    pass


class PrematureToken(InvalidToken):
    pass


class WrongClaim(InvalidToken):
    pass


class MissingClaim(InvalidToken):
    pass


class KeysUnavailable(Exception):
    """The pool's JWKS could not be fetched: the authorizer is broken, the caller is not at fault."""


def issuer(region: str, user_pool_id: str) -> str:
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


def jwks_url(endpoint_url: str, user_pool_id: str) -> str:
    """Where the moto server publishes the pool's public keys (AWS serves them under the issuer)."""
    return f"{endpoint_url.rstrip('/')}/{user_pool_id}/.well-known/jwks.json"


def bearer_token(authorization: str | None) -> str:
    """The JWT in an ``Authorization`` value: ``Bearer <jwt>`` or, as API Gateway also accepts, a bare ``<jwt>``."""
    value = (authorization or "").strip()
    scheme, _, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        value = rest.strip()
    elif rest:
        raise MalformedToken("The Authorization header must be 'Bearer <token>'.")
    if not value:
        raise MissingToken("A bearer token is required.")
    return value


def signing_key_id(token: str) -> str:
    """The ``kid`` of a token whose header names RS256; every other algorithm (none, HS256, …) is refused."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise MalformedToken("The token is not a JWT.") from error
    if header.get("alg") != ALGORITHM:
        raise UnsupportedAlgorithm(f"Tokens must be signed with {ALGORITHM}.")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise MalformedToken("The token header names no signing key.")
    return kid


def check_id_token_claims(claims: Mapping[str, Any]) -> None:
    """What PyJWT does not check for us: a Cognito *id* token with a subject."""
    if claims.get("token_use") != TOKEN_USE:
        raise WrongClaim("Only id tokens are accepted.")
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        raise MissingClaim("The token has no subject.")


def fetch_jwks(url: str, timeout: float = 5.0) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return json.load(response)
    except (OSError, ValueError) as error:
        raise KeysUnavailable(f"Cannot fetch {url}: {error}") from error


class SigningKeys:
    """The pool's RS256 public keys by kid: fetched on first use, refetched when a token names an unseen kid."""

    def __init__(
        self,
        fetch: Callable[[], Mapping[str, Any]],
        *,
        refetch_interval: float = REFETCH_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._refetch_interval = refetch_interval
        self._clock = clock
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def get(self, kid: str) -> jwt.PyJWK:
        with self._lock:
            if kid not in self._keys and self._may_fetch():
                self._refresh()
            key = self._keys.get(kid)
        if key is None:
            raise UnknownSigningKey("The token is signed with an unknown key.")
        return key

    def _may_fetch(self) -> bool:
        return self._fetched_at is None or self._clock() - self._fetched_at >= self._refetch_interval

    def _refresh(self) -> None:
        document = self._fetch()  # a failed fetch is retried by the next request, not after the interval
        self._fetched_at = self._clock()
        keys = {}
        for data in document.get("keys", []):
            try:
                key = jwt.PyJWK.from_dict(data)
            except jwt.PyJWKError:
                continue  # a key type PyJWT cannot use can never verify an RS256 token
            if key.key_id and key.key_type == "RSA" and key.algorithm_name == ALGORITHM:
                keys[key.key_id] = key
        self._keys = keys


_CLAIM_ERRORS: tuple[tuple[type[jwt.InvalidTokenError], type[InvalidToken], str], ...] = (
    (jwt.ExpiredSignatureError, ExpiredToken, "The token has expired."),
    (jwt.ImmatureSignatureError, PrematureToken, "The token is not valid yet."),
    (jwt.InvalidAudienceError, WrongClaim, "The token was issued for another app client."),
    (jwt.InvalidIssuerError, WrongClaim, "The token was issued by another user pool."),
    (jwt.MissingRequiredClaimError, MissingClaim, "The token lacks a required claim."),
    (jwt.InvalidSignatureError, BadSignature, "The token signature is invalid."),
    (jwt.InvalidTokenError, MalformedToken, "The token is malformed."),
)


class TokenVerifier:
    """Verifies a pool's id tokens for one app client; returns the claims API Gateway would pass on."""

    def __init__(self, *, issuer: str, client_id: str, keys: SigningKeys, leeway: float = LEEWAY_SECONDS) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self._keys = keys
        self._leeway = leeway

    @classmethod
    def for_pool(cls, *, endpoint_url: str, region: str, user_pool_id: str, client_id: str) -> TokenVerifier:
        url = jwks_url(endpoint_url, user_pool_id)
        return cls(issuer=issuer(region, user_pool_id), client_id=client_id, keys=SigningKeys(lambda: fetch_jwks(url)))

    def verify(self, authorization: str | None) -> dict[str, Any]:
        token = bearer_token(authorization)
        key = self._keys.get(signing_key_id(token))
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=self.client_id,
                issuer=self.issuer,
                leeway=self._leeway,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.InvalidTokenError as error:
            raise _translate(error) from error
        check_id_token_claims(claims)
        return claims


def _translate(error: jwt.InvalidTokenError) -> InvalidToken:
    # the last entry, InvalidTokenError, matches whatever the others do not
    return next(ours(message) for jwt_error, ours, message in _CLAIM_ERRORS if isinstance(error, jwt_error))

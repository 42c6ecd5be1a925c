"""The local Cognito authorizer, with an in-memory key set instead of the moto server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from infra.local.authorizer import (
    BadSignature,
    ExpiredToken,
    KeysUnavailable,
    MalformedToken,
    MissingClaim,
    MissingToken,
    PrematureToken,
    SigningKeys,
    TokenVerifier,
    UnknownSigningKey,
    UnsupportedAlgorithm,
    WrongClaim,
    bearer_token,
    fetch_jwks,
    issuer,
    jwks_url,
)

POOL = "eu-west-1_TestPool"
ISSUER = issuer("eu-west-1", POOL)
CLIENT = "console-client"


@pytest.fixture(scope="module")
def private_key() -> rsa.RSAPrivateKey:
    return new_key()


def jwk(key: rsa.RSAPrivateKey, kid: str) -> dict:
    return {**jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key(), as_dict=True), "kid": kid, "alg": "RS256"}


class FakeJwks:
    """A JWKS endpoint whose keys a test can rotate, counting fetches."""

    def __init__(self, *keys: dict):
        self.keys = list(keys)
        self.fetches = 0

    def __call__(self) -> dict:
        self.fetches += 1
        return {"keys": self.keys}


def claims(**changes) -> dict:
    now = int(time.time())
    base = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": CLIENT,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "custom:tenant_id": "acme",
        "cognito:groups": ["staff"],
    }
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def token(key: rsa.RSAPrivateKey, kid: str = "k1", **changes) -> str:
    return jwt.encode(claims(**changes), key, algorithm="RS256", headers={"kid": kid})


def unsigned() -> str:
    return jwt.encode(claims(), None, algorithm="none", headers={"kid": "k1"})


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def at(offset: int) -> int:
    return int(time.time()) + offset


def verifier(jwks: FakeJwks) -> TokenVerifier:
    return TokenVerifier(issuer=ISSUER, client_id=CLIENT, keys=SigningKeys(jwks), leeway=0)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256(secret: bytes) -> str:
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'kid': 'k1'}).encode())}.{b64(json.dumps(claims()).encode())}"
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


@pytest.mark.parametrize("header", ["Bearer abc.def.ghi", "bearer   abc.def.ghi ", "abc.def.ghi"])
def test_bearer_token_accepts_the_bearer_scheme_and_a_bare_token(header):
    assert bearer_token(header) == "abc.def.ghi"


@pytest.mark.parametrize(
    ("header", "error"), [(None, MissingToken), ("  ", MissingToken), ("Basic dXNlcg==", MalformedToken)]
)
def test_bearer_token_refuses_what_is_not_a_bearer_token(header, error):
    with pytest.raises(error):
        bearer_token(header)


def test_the_jwks_is_served_by_moto_under_the_pool_id():
    assert jwks_url("http://127.0.0.1:5000/", POOL) == f"http://127.0.0.1:5000/{POOL}/.well-known/jwks.json"
    assert f"https://cognito-idp.eu-west-1.amazonaws.com/{POOL}" == ISSUER


def test_a_valid_id_token_yields_its_claims(private_key):
    verified = verifier(FakeJwks(jwk(private_key, "k1"))).verify(f"Bearer {token(private_key)}")

    assert verified["custom:tenant_id"] == "acme"
    assert verified["cognito:groups"] == ["staff"]


UNTRUSTED = [
    pytest.param(lambda key: unsigned(), UnsupportedAlgorithm, id="alg-none"),
    pytest.param(lambda key: hs256(b"guessable"), UnsupportedAlgorithm, id="hs256"),
    pytest.param(lambda key: hs256(public_pem(key)), UnsupportedAlgorithm, id="hs256-keyed-with-the-public-key"),
    pytest.param(lambda key: "not-a-jwt", MalformedToken, id="garbage"),
    pytest.param(lambda key: jwt.encode(claims(), key, algorithm="RS256"), MalformedToken, id="no-kid"),
    pytest.param(lambda key: token(new_key()), BadSignature, id="other-key"),
    pytest.param(lambda key: token(key, iat=at(-7200), exp=at(-1)), ExpiredToken, id="expired"),
    pytest.param(lambda key: token(key, nbf=at(600)), PrematureToken, id="nbf-future"),
    pytest.param(lambda key: token(key, iat=at(600)), PrematureToken, id="iat-future"),
    pytest.param(lambda key: token(key, aud="another-client"), WrongClaim, id="other-audience"),
    pytest.param(lambda key: token(key, iss=issuer("eu-west-1", "eu-west-1_Other")), WrongClaim, id="other-issuer"),
    pytest.param(lambda key: token(key, token_use="access"), WrongClaim, id="access-token"),
    pytest.param(lambda key: token(key, exp=None), MissingClaim, id="no-exp"),
    pytest.param(lambda key: token(key, token_use=None), MissingClaim, id="no-token-use"),
    pytest.param(lambda key: token(key, sub=""), MissingClaim, id="empty-sub"),
]


@pytest.mark.parametrize(("forge", "error"), UNTRUSTED)
def test_an_untrusted_token_is_refused_for_its_reason(private_key, forge, error):
    with pytest.raises(error):
        verifier(FakeJwks(jwk(private_key, "k1"))).verify(forge(private_key))


def test_keys_are_fetched_once_and_cached(private_key):
    jwks = FakeJwks(jwk(private_key, "k1"))
    check = verifier(jwks)

    check.verify(token(private_key))
    check.verify(token(private_key))

    assert jwks.fetches == 1


def test_an_unknown_kid_refetches_the_keys_so_a_rotated_key_is_accepted(private_key):
    rotated = new_key()
    jwks = FakeJwks(jwk(private_key, "k1"))
    keys = SigningKeys(jwks, refetch_interval=0)
    check = TokenVerifier(issuer=ISSUER, client_id=CLIENT, keys=keys)
    check.verify(token(private_key))

    jwks.keys.append(jwk(rotated, "k2"))

    assert check.verify(token(rotated, kid="k2"))["sub"] == "user-1"
    assert jwks.fetches == 2


def test_unknown_kids_do_not_refetch_more_often_than_the_interval(private_key):
    jwks = FakeJwks(jwk(private_key, "k1"))
    now = [1000.0]
    keys = SigningKeys(jwks, refetch_interval=10, clock=lambda: now[0])

    for kid in ("x1", "x2", "x3"):
        with pytest.raises(UnknownSigningKey):
            keys.get(kid)
    now[0] += 10
    with pytest.raises(UnknownSigningKey):
        keys.get("x4")

    assert jwks.fetches == 2


def test_keys_that_cannot_verify_rs256_are_ignored(private_key):
    ec_key = jwt.algorithms.ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1()).public_key(), as_dict=True)
    jwks = FakeJwks({**ec_key, "kid": "ec"}, {"kty": "oct", "kid": "hmac", "k": b64(b"secret")}, jwk(private_key, "k1"))
    keys = SigningKeys(jwks)

    assert keys.get("k1").key_id == "k1"
    for kid in ("ec", "hmac"):
        with pytest.raises(UnknownSigningKey):
            keys.get(kid)


def test_an_unreachable_jwks_is_the_authorizers_failure_not_the_callers():
    keys = SigningKeys(lambda: fetch_jwks("http://127.0.0.1:9/pool/.well-known/jwks.json", timeout=1))

    with pytest.raises(KeysUnavailable):
        keys.get("k1")
    with pytest.raises(KeysUnavailable):  # tried again at once: a failed fetch does not start the interval
        keys.get("k1")

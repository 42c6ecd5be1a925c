"""Untrusted tokens and malformed input over real HTTP: each is a clean 4xx problem that carries none
of the tenant's data, and the API goes on serving."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from typing import Any

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from moto.utilities.utils import load_resource

from infra.local import running
from infra.resources import USER_POOL_CUSTOM_ATTRIBUTES

PROBLEM = "application/problem+json"
PASSWORD = "Corr3ct-Horse-Battery!"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    return jwt.decode(token, options={"verify_signature": False})


def unsigned(cloud, token: str) -> str:
    return jwt.encode(
        claims_of(token), None, algorithm="none", headers={"kid": jwt.get_unverified_header(token)["kid"]}
    )


def expired(cloud, token: str) -> str:
    """Validly signed (with the key the local Cognito signs with) but an hour past its expiry."""
    now = int(time.time())
    key = jwt.PyJWK.from_dict(load_resource("cognitoidp/resources/jwks-private.json")).key
    header = jwt.get_unverified_header(token)
    return jwt.encode({**claims_of(token), "iat": now - 7200, "exp": now - 3600}, key, "RS256", headers=header)


def hs256_keyed_with_the_public_key(cloud, token: str) -> str:
    """Key confusion: HMAC-signed with the pool's published RSA key, for a verifier that takes alg from the token."""
    details = cloud.details
    jwks = requests.get(
        f"{details['aws_endpoint_url']}/{details['user_pool_id']}/.well-known/jwks.json", timeout=10
    ).json()
    public_pem = jwt.PyJWK.from_dict(jwks["keys"][0]).key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "kid": jwt.get_unverified_header(token)["kid"], "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims_of(token)).encode())}"
    return f"{signing_input}.{_b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"


def from_another_pool(cloud, token: str) -> str:
    """A real token of a user pool the attacker made in the same Cognito, claiming the demo tenant and the
    managers group: the same signing key as the real pool's (moto has one), another issuer."""
    cognito = running.cognito(cloud.details)
    attributes = [{"Name": a, "AttributeDataType": "String", "Mutable": True} for a in USER_POOL_CUSTOM_ATTRIBUTES]
    pool = cognito.create_user_pool(PoolName=f"attacker-{uuid.uuid4().hex[:8]}", Schema=attributes)["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool, ClientName="attacker", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
    )["UserPoolClient"]["ClientId"]
    cognito.create_group(UserPoolId=pool, GroupName="managers")
    user = "mallory@evil.test"
    cognito.admin_create_user(
        UserPoolId=pool,
        Username=user,
        UserAttributes=[
            {"Name": "email", "Value": user},
            {"Name": "custom:tenant_id", "Value": claims_of(token)["custom:tenant_id"]},
        ],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool, Username=user, Password=PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool, Username=user, GroupName="managers")
    result = cognito.admin_initiate_auth(
        UserPoolId=pool,
        ClientId=client,
        AuthFlow="ADMIN_USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": user, "PASSWORD": PASSWORD},
    )
    return result["AuthenticationResult"]["IdToken"]


@pytest.mark.parametrize(
    "forge",
    [unsigned, expired, hs256_keyed_with_the_public_key, from_another_pool],
    ids=["alg-none", "expired", "hs256-public-key", "another-pool"],
)
def test_an_untrusted_token_is_401_and_reveals_no_tenant_data(api, demo, cloud, forge):
    # Given the demo tenant has a ticket, and a token forged from a real one
    ticket = api.create_ticket(demo.agent, subject=f"Secret {uuid.uuid4().hex[:6]}")
    forged = forge(cloud, demo.manager)

    # When the forged token asks for the tenant's tickets and for that ticket
    answers = [api.get("/support/tickets", as_=forged), api.get(f"/support/tickets/{ticket['id']}", as_=forged)]

    # Then both are 401 problems that name nothing of the tenant
    for response in answers:
        assert response.status_code == 401, response.text
        assert response.headers["Content-Type"] == PROBLEM
        assert ticket["number"] not in response.text and ticket["subject"] not in response.text
    assert api.get("/me", as_=demo.manager).status_code == 200


def test_a_tampered_cursor_is_a_400_and_reveals_nothing(api, demo):
    # Given two pages of the demo tenant's tickets
    for n in range(2):
        api.create_ticket(demo.agent, subject=f"Cursor {n}")
    cursor = api.get("/support/tickets", as_=demo.agent, params={"limit": 1}).json()["next_cursor"]
    assert cursor

    # When the cursor is altered (one character of it changed)
    flipped = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    response = api.get("/support/tickets", as_=demo.agent, params={"limit": 1, "cursor": flipped})

    # Then it is refused
    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == PROBLEM


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (b"[" * 100_000, 400),
        (b'{"subject": "\xff\xfe"}', 400),
        (json.dumps({"subject": "Hi", "tags": ["t"] * 10_000}).encode(), 422),
    ],
    ids=["nested-100000", "not-utf8", "huge-array"],
)
def test_malformed_bodies_are_clean_4xx_and_create_nothing(api, demo, body, status):
    before = api.get("/support/tickets", as_=demo.agent, params={"limit": 1}).json()["items"]

    response = api.post("/support/tickets", as_=demo.agent, data=body, headers={"Content-Type": "application/json"})

    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    assert api.get("/support/tickets", as_=demo.agent, params={"limit": 1}).json()["items"] == before

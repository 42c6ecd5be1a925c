"""The local API over real HTTP with real Cognito tokens from the moto server."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.utilities.utils import load_resource

AGENT = "agent@acme.test"
PORTAL = "portal@client.test"
PROBLEM = "application/problem+json"
TICKET_ID = "01JABCDEFGHJKMNPQRSTVWXYZ0"
JSON = {"Content-Type": "application/json"}


def moto_signing_key() -> jwt.PyJWK:
    """The private key moto signs its pools' tokens with: lets a test forge a validly signed token."""
    return jwt.PyJWK.from_dict(load_resource("cognitoidp/resources/jwks-private.json"))


def call(cloud, method: str, path: str, token: str | None = None, **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    return requests.request(method, cloud.api.url + path, headers=headers, timeout=10, **kwargs)


def claims_of(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def resigned(token: str, key, **changes) -> str:
    return jwt.encode({**claims_of(token), **changes}, key, algorithm="RS256", headers={"kid": "dummy"})


def assert_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    return body


def test_openapi_document_needs_no_token(cloud):
    response = call(cloud, "GET", "/openapi.json")

    assert response.status_code == 200
    assert "/me" in response.json()["paths"]


@pytest.mark.parametrize("scheme", ["Bearer ", ""], ids=["bearer", "bare"])
def test_me_answers_the_tenant_and_roles_of_a_real_id_token(cloud, scheme):
    token = cloud.id_token(AGENT)

    response = call(cloud, "GET", "/me", headers={"Authorization": scheme + token})

    assert response.status_code == 200, response.text
    me = response.json()
    assert me["tenant_id"] == cloud.tenant
    assert me["roles"] == ["staff"]
    assert me["user_id"] == claims_of(token)["sub"]
    assert response.headers["x-amzn-RequestId"]


def test_concurrent_requests_each_get_their_own_answer(cloud):
    tokens = {AGENT: cloud.id_token(AGENT), PORTAL: cloud.id_token(PORTAL)}
    callers = [AGENT, PORTAL] * 8

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda user: call(cloud, "GET", "/me", tokens[user]).json()["roles"], callers))

    assert answers == [["staff"] if user == AGENT else ["portal"] for user in callers]


def test_a_request_without_a_token_is_401(cloud):
    response = call(cloud, "GET", "/me")

    assert_problem(response, 401)
    assert response.headers["WWW-Authenticate"] == "Bearer"


def _garbage(_cloud, _token: str) -> str:
    return "not-a-jwt"


def _signed_with_another_key(_cloud, token: str) -> str:
    return resigned(token, rsa.generate_private_key(public_exponent=65537, key_size=2048))


def _unsigned(_cloud, token: str) -> str:
    return jwt.encode(claims_of(token), None, algorithm="none", headers={"kid": "dummy"})


def _for_another_app_client(cloud, _token: str) -> str:
    return cloud.id_token(AGENT, client_id=cloud.other_client_id)


def _expired(_cloud, token: str) -> str:
    now = int(time.time())
    return resigned(token, moto_signing_key().key, iat=now - 7200, exp=now - 3600)


UNTRUSTED = [
    pytest.param(_garbage, "The token is not a JWT.", id="garbage"),
    pytest.param(_signed_with_another_key, "The token signature is invalid.", id="another-key"),
    pytest.param(_unsigned, "Tokens must be signed with RS256.", id="alg-none"),
    pytest.param(_for_another_app_client, "The token was issued for another app client.", id="another-client"),
    pytest.param(_expired, "The token has expired.", id="expired"),
]


@pytest.mark.parametrize(("forge", "reason"), UNTRUSTED)
def test_an_untrusted_token_is_401(cloud, forge, reason):
    token = forge(cloud, cloud.id_token(AGENT))

    response = call(cloud, "GET", "/me", token)

    assert assert_problem(response, 401)["detail"] == reason


def test_a_portal_user_may_not_update_a_ticket(cloud):
    response = call(cloud, "PATCH", f"/support/tickets/{TICKET_ID}", cloud.id_token(PORTAL), json={"priority": "high"})

    assert_problem(response, 403)


def test_path_parameters_reach_the_handler(cloud):
    response = call(cloud, "GET", f"/support/tickets/{TICKET_ID}", cloud.id_token(AGENT))

    assert assert_problem(response, 404)["detail"] == "No such ticket."


def test_invalid_json_is_a_400_problem(cloud):
    response = call(cloud, "POST", "/support/tickets", cloud.id_token(AGENT), data='{"subject": ', headers=JSON)

    assert_problem(response, 400)


def test_an_empty_body_reaches_the_handler_which_rejects_it(cloud):
    response = call(cloud, "POST", "/support/tickets", cloud.id_token(AGENT))

    assert_problem(response, 422)


@pytest.mark.parametrize("size", [256 * 1024, 5 * 1024 * 1024, 20 * 1024 * 1024], ids=["256KB", "5MB", "20MB"])
def test_a_body_over_256_kb_is_413_and_the_server_keeps_serving(cloud, size):
    token = cloud.id_token(AGENT)
    body = json.dumps({"subject": "big", "description": "x" * size})

    response = call(cloud, "POST", "/support/tickets", token, data=body, headers=JSON)

    assert_problem(response, 413)
    assert call(cloud, "GET", "/me", token).status_code == 200


@pytest.mark.parametrize(("method", "path"), [("GET", "/nowhere"), ("TRACE", "/nowhere"), ("GET", "/support/x/y/z/w")])
def test_an_unknown_endpoint_is_a_404_problem(cloud, method, path):
    response = call(cloud, method, path)

    assert_problem(response, 404)


@pytest.mark.parametrize("method", ["DELETE", "HEAD", "TRACE", "CONNECT", "PROPFIND"])
def test_a_method_the_path_does_not_take_is_a_405_problem_naming_those_it_does(cloud, method):
    # TRACE was answered by http.server itself: a 501 HTML page
    response = call(cloud, method, "/me", data=b"x")

    assert response.status_code == 405
    assert response.headers["Allow"] == "GET"
    if method != "HEAD":  # a HEAD answer has no body
        assert_problem(response, 405)
    assert call(cloud, "GET", "/openapi.json").status_code == 200  # the connection's framing held

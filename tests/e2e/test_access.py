"""Who may call: only a verified Cognito id token gets in (401 otherwise), and only in its roles (403)."""

from __future__ import annotations

import base64
import json

import pytest

PROBLEM = "application/problem+json"


def test_a_token_printed_by_deskos_token_opens_the_api(api, demo):
    # Given the manager's token from `deskos token manager@demo.deskos.local`
    # When the manager asks who they are
    response = api.get("/me", as_=demo.manager)

    # Then the API knows them: tenant demo, a manager
    assert response.status_code == 200, response.text
    me = response.json()
    assert (me["tenant_id"], me["username"]) == ("demo", "manager@demo.deskos.local")
    assert "managers" in me["roles"]


def test_without_a_token_the_api_answers_401(api):
    response = api.get("/support/tickets")

    assert response.status_code == 401
    assert response.headers["Content-Type"] == PROBLEM
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.json()["status"] == 401


def test_a_garbage_token_is_refused_with_401(api):
    response = api.get("/support/tickets", as_="not-a-jwt")

    assert response.status_code == 401
    assert response.headers["Content-Type"] == PROBLEM


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def altered_signature(token: str) -> str:
    header, payload, signature = token.split(".")
    raw = bytearray(_unb64(signature))
    raw[len(raw) // 2] ^= 0x01  # one bit of the signature flipped
    return f"{header}.{payload}.{_b64(bytes(raw))}"


def altered_claims(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["custom:tenant_id"] = "globex"  # the original signature no longer covers the claims
    return f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"


@pytest.mark.parametrize("tamper", [altered_signature, altered_claims], ids=["signature", "claims"])
def test_a_tampered_token_is_refused_with_401(api, demo, tamper):
    # Given a real token of the agent, which the API accepts as it is
    genuine = demo.agent
    assert api.get("/me", as_=genuine).status_code == 200

    # When it is altered in transit
    response = api.get("/me", as_=tamper(genuine))

    # Then the API refuses it
    assert response.status_code == 401, response.text
    assert response.headers["Content-Type"] == PROBLEM


def portal_patches_a_ticket(api, demo, ticket):
    return api.patch(f"/support/tickets/{ticket['id']}", as_=demo.portal, json={"version": 1, "priority": "urgent"})


def portal_assigns_a_ticket(api, demo, ticket):
    return api.post(f"/support/tickets/{ticket['id']}/assign", as_=demo.portal, json={"assignee_id": "anyone"})


def staff_change_the_numbering(api, demo, ticket):
    # the current default format: were it ever accepted, nothing would change for the other tests
    same_format = {"prefix": "TK", "include_year": True, "include_month": False, "padding": 5, "separator": "-"}
    return api.put("/support/ticket-number-sequence", as_=demo.agent, json={**same_format, "reset": "yearly"})


@pytest.mark.parametrize("attempt", [portal_patches_a_ticket, portal_assigns_a_ticket, staff_change_the_numbering])
def test_a_caller_outside_the_routes_roles_gets_403(api, demo, attempt):
    # Given a portal user's own ticket
    ticket = api.create_ticket(demo.portal, subject="Mouse double-clicks")

    # When someone tries what their role does not allow
    response = attempt(api, demo, ticket)

    # Then it is forbidden, and the ticket is unchanged
    assert response.status_code == 403, response.text
    assert response.headers["Content-Type"] == PROBLEM
    after = api.get(f"/support/tickets/{ticket['id']}", as_=demo.portal).json()
    assert (after["version"], after["priority"], after["assignee_id"]) == (1, "normal", None)

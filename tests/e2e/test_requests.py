"""What the API does with the requests it is sent: broken or invalid bodies, retried creates, stale writes."""

from __future__ import annotations

import socket
import uuid
from urllib.parse import urlparse

import pytest

PROBLEM = "application/problem+json"


def test_a_body_that_is_not_json_is_a_400_problem(api, demo):
    response = api.post(
        "/support/tickets",
        as_=demo.agent,
        data=b'{"subject": "Printer',
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 400, response.text
    assert response.headers["Content-Type"] == PROBLEM
    assert response.json()["status"] == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"subject": "Printer on fire", "colour": "red"}, "colour"),
        ({"subject": "   "}, "subject"),
        ({"subject": "Printer on fire", "priority": "whenever"}, "priority"),
    ],
    ids=["unknown field", "empty subject", "bad priority"],
)
def test_an_invalid_ticket_is_a_422_naming_the_field(api, demo, body, field):
    response = api.post("/support/tickets", as_=demo.agent, json=body)

    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == PROBLEM
    problem = response.json()
    assert problem["status"] == 422
    assert [e["field"] for e in problem["errors"]] == [field]
    assert all(e["message"] for e in problem["errors"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "unheard-of"}, "query.status"),
        ({"created_from": "not-a-date"}, "query.created_from"),
        ({"assignee_id": "two words"}, "query.assignee_id"),
    ],
    ids=["bad status", "bad created_from", "bad assignee_id"],
)
def test_an_invalid_list_filter_is_a_422_naming_the_parameter(api, demo, params, field):
    response = api.get("/support/tickets", as_=demo.agent, params=params)

    assert response.status_code == 422, response.text
    assert response.headers["Content-Type"] == PROBLEM
    assert [e["field"] for e in response.json()["errors"]] == [field]


def test_a_retried_create_with_the_same_idempotency_key_returns_the_same_ticket(api, demo):
    # Given a create whose answer the client did not get, so it sends it again with the same key
    subject = f"Retried ticket {uuid.uuid4()}"
    key = {"Idempotency-Key": str(uuid.uuid4())}
    first = api.post("/support/tickets", as_=demo.agent, json={"subject": subject}, headers=key)
    retry = api.post("/support/tickets", as_=demo.agent, json={"subject": subject}, headers=key)

    # Then both answers are the same ticket
    assert (first.status_code, retry.status_code) == (201, 201), retry.text
    assert (retry.json()["id"], retry.json()["number"]) == (first.json()["id"], first.json()["number"])
    # And only one such ticket exists
    listed = api.get("/support/tickets", as_=demo.agent, params={"limit": 100}).json()["items"]
    assert [t["id"] for t in listed if t["subject"] == subject] == [first.json()["id"]]


def test_a_patch_with_a_stale_version_is_a_409(api, demo):
    # Given a ticket someone else already changed (version 1 -> 2)
    ticket = api.create_ticket(demo.agent, subject="Monitor flickers")
    first = api.patch(f"/support/tickets/{ticket['id']}", as_=demo.technician, json={"version": 1, "priority": "high"})
    assert first.status_code == 200, first.text

    # When the agent saves their change based on version 1
    stale = api.patch(f"/support/tickets/{ticket['id']}", as_=demo.agent, json={"version": 1, "priority": "low"})

    # Then it conflicts, says the current version, and the first change stands
    assert stale.status_code == 409, stale.text
    assert stale.headers["Content-Type"] == PROBLEM
    assert stale.json()["current_version"] == 2
    assert api.get(f"/support/tickets/{ticket['id']}", as_=demo.agent).json()["priority"] == "high"


def test_a_head_answer_carries_no_body(api):
    # When a client sends HEAD for a page (on a raw connection, so nothing is hidden by a client library)
    address = urlparse(api.base_url)
    with socket.create_connection((address.hostname, address.port), timeout=15) as connection:
        connection.sendall(b"HEAD /docs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        received = b"".join(iter(lambda: connection.recv(65536), b""))

    # Then the answer ends with its headers: a body would be read as the start of the next answer
    head, _, rest = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 "), received
    assert rest == b"", f"{len(rest)} bytes after the headers of a HEAD answer: {rest[:80]!r}"

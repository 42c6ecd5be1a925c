"""Cursors are opaque, signed, and bound to one tenant and one query."""

import pytest

from shared import cursors
from shared.errors import BadRequest

KEY = {"PK": "T#acme#TICKETS", "SK": "2026-11-22T00:00:00.000Z#01J"}


def test_a_cursor_round_trips_for_its_own_tenant_and_query():
    token = cursors.encode("acme", "tickets:{}", KEY)
    assert token and "acme" not in token
    assert cursors.decode("acme", "tickets:{}", token) == KEY


def test_no_last_key_means_no_cursor():
    assert cursors.encode("acme", "q", None) is None
    assert cursors.decode("acme", "q", None) is None


@pytest.mark.parametrize(
    ("tenant", "query"),
    [("globex", "tickets:{}"), ("acme", 'tickets:{"status":"open"}')],
    ids=["another tenant", "another query"],
)
def test_a_cursor_is_refused_elsewhere(tenant, query):
    token = cursors.encode("acme", "tickets:{}", KEY)
    with pytest.raises(BadRequest):
        cursors.decode(tenant, query, token)


@pytest.mark.parametrize(
    "mangle",
    [lambda t: t[:-2] + "AA", lambda t: "x" + t, lambda t: t.replace(".", ""), lambda t: "!!!.???", lambda t: t * 40],
)
def test_a_tampered_cursor_is_refused(mangle):
    token = cursors.encode("acme", "q", KEY)
    with pytest.raises(BadRequest):
        cursors.decode("acme", "q", mangle(token))

"""Survey links are signed for one tenant and invitation until an expiry; summaries are plain arithmetic."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared.cursors import b64url, unb64url
from shared.errors import Unprocessable
from shared.support.surveys import links, summaries

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_a_token_names_the_tenant_and_invitation_it_was_signed_for():
    token = links.issue_token("acme", "01ABC-1", NOW + timedelta(days=1))
    assert links.read_token(token, NOW) == links.Claim("acme", "01ABC-1")


def test_a_token_pointed_at_another_tenant_or_invitation_is_invalid():
    body, signature = links.issue_token("acme", "01ABC-1", NOW + timedelta(days=1)).split(".")
    forged = b64url(unb64url(body).replace(b"acme", b"evil")) + "." + signature
    with pytest.raises(Unprocessable, match="invalid"):
        links.read_token(forged, NOW)


def test_a_token_past_its_expiry_is_refused():
    token = links.issue_token("acme", "01ABC-1", NOW)
    with pytest.raises(Unprocessable, match="expired"):
        links.read_token(token, NOW + timedelta(seconds=1))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({10: 10, 7: 5, 0: 5}, 25),
        ({9: 1}, 100),
        ({6: 3}, -100),
        ({8: 4}, 0),
        ({10: 1, 8: 1, 0: 1}, 0),
        ({10: 2, 0: 1}, 33.3),
    ],
)
def test_nps_is_the_share_of_promoters_less_the_share_of_detractors(counts, expected):
    assert summaries.nps(counts).nps == expected


def test_nps_without_responses_is_null():
    assert summaries.nps({}).model_dump() == {
        "responses": 0,
        "promoters": 0,
        "passives": 0,
        "detractors": 0,
        "nps": None,
    }


def test_a_scale_summary_averages_and_lists_every_score():
    summary = summaries.scale({1: 0, 2: 1, 3: 0, 4: 0, 5: 3})
    assert (summary.responses, summary.average) == (4, 4.25)
    assert summary.distribution == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 3}

"""Signed link tokens: each names a tenant and a subject for one purpose, until it expires."""

from datetime import UTC, datetime, timedelta

import pytest

from shared import links
from shared.errors import Unprocessable

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def secret(monkeypatch):
    from shared.settings import settings

    for name, value in {"DESKOS_TABLE": "t", "DESKOS_BUCKET": "b", "DESKOS_CURSOR_SECRET": "k" * 64}.items():
        monkeypatch.setenv(name, value)
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_a_token_names_its_tenant_subject_and_extra_claims():
    token = links.sign("poll-vote", "acme", "01POLL", NOW + timedelta(days=1), invitee="inv-2")
    assert links.read("poll-vote", token, NOW) == links.Grant("acme", "01POLL", {"invitee": "inv-2"})


def test_a_token_for_one_purpose_is_refused_for_every_other():
    token = links.sign("survey-invitation", "acme", "01ABC", NOW + timedelta(days=1))
    with pytest.raises(Unprocessable, match="invalid"):
        links.read("unsubscribe", token, NOW)


TAMPERINGS = [lambda t: t[:-2] + "AA", lambda t: "x" + t, lambda t: t.replace(".", ""), str.upper]


@pytest.mark.parametrize("tamper", TAMPERINGS)
def test_an_altered_token_is_refused(tamper):
    token = links.sign("unsubscribe", "acme", "c1", NOW + timedelta(days=1))
    with pytest.raises(Unprocessable, match="invalid"):
        links.read("unsubscribe", tamper(token), NOW)


def test_an_expired_token_says_so():
    token = links.sign("unsubscribe", "acme", "c1", NOW)
    with pytest.raises(Unprocessable, match="expired"):
        links.read("unsubscribe", token, NOW + timedelta(seconds=1))


def test_links_point_at_the_web_app_pages_or_the_api(monkeypatch):
    monkeypatch.setenv("DESKOS_PUBLIC_URL", "https://desk.example.com/")
    assert links.page_url("vote", "a.b") == "https://desk.example.com/app/vote?token=a.b"
    assert (
        links.api_url("/marketing/unsubscribe", "a=b") == "https://desk.example.com/marketing/unsubscribe?token=a%3Db"
    )


def test_an_address_tag_fits_a_local_part_and_names_its_subject_in_its_tenant_only():
    tag = links.sign_address("ticket-reply", "acme", "01JDZ3Q4R5S6T7V8W9X0Y1Z2A3")
    assert len("reply+" + tag) <= 64 and tag == tag.lower()
    assert links.read_address("ticket-reply", "acme", tag.upper()) == "01jdz3q4r5s6t7v8w9x0y1z2a3"  # case folded
    assert links.read_address("ticket-reply", "globex", tag) is None
    assert links.read_address("unsubscribe", "acme", tag) is None
    other = links.sign_address("ticket-reply", "acme", "01JDZ3Q4R5S6T7V8W9X0Y1Z2A4")
    assert links.read_address("ticket-reply", "acme", tag.split(".")[0] + "." + other.split(".")[1]) is None

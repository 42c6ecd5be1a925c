"""Surveys: managers define them, a resolved ticket's requester is invited by email (from the table's
stream), answers come back through the signed link or the portal, and staff read the summaries."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from infra.local import outbox
from infra.resources import STREAM_CONSUMERS
from shared import mail
from shared.cursors import b64url, unb64url
from shared.support.surveys import links
from tests.integration.api.conftest import ConsumerStream
from tests.integration.api.harness import Tenant, User, call

SURVEYS = "/support/surveys"
SURVEY = "/support/surveys/{survey_id}"
RESPONSES = "/support/survey-responses"
TICKET_ANSWER = "/support/tickets/{ticket_id}/survey-response"
CONSUMER = next(c for c in STREAM_CONSUMERS if c.name == "SurveyInvitations")
TOKEN = re.compile(r"/support/survey-responses\?token=(\S+)")


def summary(kind: str) -> str:
    return f"{RESPONSES}/{kind}-summary"


# ---- the stream and the outbox -----------------------------------------------------------------


@pytest.fixture(scope="module")
def _survey_stream(module_cloud) -> ConsumerStream:
    return ConsumerStream(module_cloud, CONSUMER)


@pytest.fixture
def stream(cloud, _survey_stream) -> Iterator[ConsumerStream]:
    _survey_stream.delivered.clear()
    mail._ses.cache_clear()  # the module's moto server, not another module's
    yield _survey_stream
    mail._ses.cache_clear()


def inbox(cloud, address: str) -> list[dict[str, Any]]:
    return [m for m in outbox.messages(cloud.server.url) if address in m["destinations"]["ToAddresses"]]


def token_in(message: dict[str, Any]) -> str:
    found = TOKEN.search(message["body"])
    assert found, message["body"]
    return found.group(1)


# ---- the scene ---------------------------------------------------------------------------------


def make_survey(tenant: Tenant, kind: str = "nps", **fields: Any) -> dict[str, Any]:
    body = {"name": f"{kind} after resolve", "kind": kind, "question": "How likely are you to recommend us?"}
    reply = call(tenant.manager, "POST", SURVEYS, body={**body, **fields})
    assert reply.status == 201, reply.text
    return reply.json


def requester(tenant: Tenant) -> tuple[str, str, str]:
    """A client with a contact who has an email address: (client id, contact id, email)."""
    client = tenant.client()
    email = f"{uuid.uuid4().hex[:12]}@client.test"
    return client["id"], tenant.contact(client["id"], email=email)["id"], email


def resolve(user: User, ticket: dict[str, Any]) -> dict[str, Any]:
    reply = call(user, "POST", "/support/tickets/{ticket_id}/resolve", {"ticket_id": ticket["id"]})
    assert reply.status == 200, reply.text
    return reply.json


def resolved_ticket(tenant: Tenant, client_id: str, contact_id: str) -> dict[str, Any]:
    ticket = tenant.ticket(client_id=client_id, requester_contact_id=contact_id)
    return resolve(tenant.agent, ticket)


def tokens(tenant: Tenant, stream: ConsumerStream, cloud, count: int) -> list[str]:
    """``count`` invitation links, one per resolved ticket of one contact (the survey has no cooldown)."""
    client_id, contact_id, email = requester(tenant)
    for _ in range(count):
        resolved_ticket(tenant, client_id, contact_id)
    stream.drain()
    return [token_in(m) for m in inbox(cloud, email)]


def answer(token: str, score: int, **fields: Any):
    return call(None, "POST", RESPONSES, body={"token": token, "score": score, **fields})


# ---- defining surveys --------------------------------------------------------------------------


def test_a_manager_creates_a_survey_and_staff_read_it(tenant: Tenant):
    # When a manager creates a CSAT survey
    made = make_survey(tenant, "csat", question="How satisfied are you?", follow_up_question="Why?", cooldown_days=7)

    # Then staff read it, by id and in the list
    got = call(tenant.agent, "GET", SURVEY, {"survey_id": made["id"]})
    assert got.status == 200 and got.json == made
    assert (made["kind"], made["active"], made["send_after"], made["cooldown_days"]) == ("csat", True, "resolved", 7)
    assert made["follow_up_question"] == "Why?"
    listed = call(tenant.agent, "GET", SURVEYS)
    assert [s["id"] for s in listed.json["items"]] == [made["id"]]


def test_a_survey_of_an_unknown_kind_is_refused_with_field_errors(tenant: Tenant):
    reply = call(tenant.manager, "POST", SURVEYS, body={"name": "x", "kind": "stars", "question": "?"})
    assert "kind" in reply.field_errors()


def test_a_manager_deactivates_a_survey_with_its_version_and_a_stale_version_conflicts(tenant: Tenant):
    made = make_survey(tenant)
    changed = call(tenant.manager, "PATCH", SURVEY, {"survey_id": made["id"]}, body={"version": 1, "active": False})
    assert changed.status == 200, changed.text
    assert (changed.json["active"], changed.json["version"]) == (False, 2)

    stale = call(tenant.manager, "PATCH", SURVEY, {"survey_id": made["id"]}, body={"version": 1, "active": True})
    assert stale.problem(409)["current_version"] == 2


def test_a_manager_deletes_a_survey(tenant: Tenant):
    made = make_survey(tenant)
    assert call(tenant.manager, "DELETE", SURVEY, {"survey_id": made["id"]}).status == 204
    call(tenant.agent, "GET", SURVEY, {"survey_id": made["id"]}).problem(404)


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", SURVEYS, {"name": "n", "kind": "nps", "question": "?"}),
        ("PATCH", SURVEY, {"version": 1, "active": False}),
        ("DELETE", SURVEY, None),
    ],
)
def test_staff_may_read_but_not_write_surveys(tenant: Tenant, method, path, body):
    made = make_survey(tenant)
    reply = call(tenant.agent, method, path, {"survey_id": made["id"]} if "{" in path else None, body=body)
    reply.problem(403)
    assert call(tenant.agent, "GET", SURVEY, {"survey_id": made["id"]}).json == made


@pytest.mark.parametrize("path", [SURVEYS, SURVEY, RESPONSES, summary("nps"), summary("csat"), summary("ces")])
def test_portal_users_may_not_read_surveys_responses_or_summaries(tenant: Tenant, path):
    made = make_survey(tenant)
    portal = tenant.portal_user(tenant.client()["id"])
    call(portal, "GET", path, {"survey_id": made["id"]} if "{" in path else None).problem(403)


@pytest.mark.parametrize(
    ("method", "body"), [("GET", None), ("PATCH", {"version": 1, "active": False}), ("DELETE", None)]
)
def test_another_tenants_survey_is_not_found_and_stays_untouched(new_tenant, method, body):
    owner, intruder = new_tenant(), new_tenant()
    made = make_survey(owner, name="Owner's secret survey")

    reply = call(intruder.manager, method, SURVEY, {"survey_id": made["id"]}, body=body)

    assert "secret" not in reply.problem(404)["detail"]
    assert call(owner.manager, "GET", SURVEY, {"survey_id": made["id"]}).json == made
    assert call(intruder.manager, "GET", SURVEYS).json["items"] == []


# ---- invitations -------------------------------------------------------------------------------


def test_a_resolved_ticket_invites_its_requester_once_even_if_the_record_comes_twice(tenant: Tenant, stream, cloud):
    # Given an active NPS survey without cooldown and a ticket of a contact with an email address
    make_survey(tenant, cooldown_days=0)
    client_id, contact_id, email = requester(tenant)
    ticket = tenant.ticket(client_id=client_id, requester_contact_id=contact_id)

    # When the ticket is resolved and the stream delivers the change, twice
    resolve(tenant.agent, ticket)
    stream.drain()
    stream.redeliver()

    # Then the contact got exactly one invitation, with a signed link to answer it
    [message] = inbox(cloud, email)
    assert ticket["number"] in message["subject"]
    assert "How likely are you to recommend us?" in message["body"]
    claim = links.read_token(token_in(message), datetime.now(UTC))
    assert claim.tenant_id == tenant.id and claim.invitation_id.startswith(ticket["id"])


def test_a_portal_users_resolved_ticket_invites_them_at_their_profile_address(tenant: Tenant, stream, cloud):
    make_survey(tenant)
    portal = tenant.portal_user(tenant.client()["id"])
    ticket = tenant.ticket(by=portal)

    resolve(tenant.agent, ticket)
    stream.drain()

    assert len(inbox(cloud, portal.email)) == 1


def test_a_contact_invited_within_the_cooldown_is_not_invited_again(tenant: Tenant, stream, cloud):
    # Given a survey with a 30-day cooldown and a contact invited once already
    make_survey(tenant, cooldown_days=30)
    client_id, contact_id, email = requester(tenant)
    resolved_ticket(tenant, client_id, contact_id)
    stream.drain()

    # When another ticket of theirs is resolved
    resolved_ticket(tenant, client_id, contact_id)
    stream.drain()

    # Then no second invitation is sent
    assert len(inbox(cloud, email)) == 1


def test_no_invitation_without_an_active_survey_or_for_a_ticket_without_a_requester_contact(
    tenant: Tenant, stream, cloud
):
    # Given an inactive survey, and then an active one
    inactive = make_survey(tenant)
    call(tenant.manager, "PATCH", SURVEY, {"survey_id": inactive["id"]}, body={"version": 1, "active": False})
    client_id, contact_id, email = requester(tenant)
    resolved_ticket(tenant, client_id, contact_id)
    stream.drain()
    assert inbox(cloud, email) == []

    # When staff resolve a ticket they opened without a requester contact, with a survey active
    make_survey(tenant)
    before = len(outbox.messages(cloud.server.url))
    resolve(tenant.agent, tenant.ticket(client_id=client_id))
    stream.drain()

    # Then nobody is invited
    assert len(outbox.messages(cloud.server.url)) == before


# ---- answering ---------------------------------------------------------------------------------


def test_answering_through_the_link_twice_records_one_response(tenant: Tenant, stream, cloud):
    # Given an invitation link
    make_survey(tenant, follow_up_question="What could we do better?")
    [token] = tokens(tenant, stream, cloud, 1)

    # When the link is answered, and answered again
    first = answer(token, 9, comment="Quick and friendly")
    second = answer(token, 2)

    # Then the first is recorded, the second refused, and staff see one response
    assert first.status == 201, first.text
    assert (first.json["score"], first.json["comment"], first.json["channel"]) == (9, "Quick and friendly", "link")
    second.problem(409)
    listed = call(tenant.agent, "GET", RESPONSES)
    assert [(r["score"], r["id"]) for r in listed.json["items"]] == [(9, first.json["id"])]


def test_the_token_may_come_in_the_query_string_as_in_the_emailed_link(tenant: Tenant, stream, cloud):
    make_survey(tenant)
    [token] = tokens(tenant, stream, cloud, 1)

    reply = call(None, "POST", RESPONSES, body={"score": 10}, query={"token": token})

    assert reply.status == 201, reply.text


def test_a_score_outside_the_surveys_scale_is_refused_and_the_link_still_works(tenant: Tenant, stream, cloud):
    make_survey(tenant, "csat")
    [token] = tokens(tenant, stream, cloud, 1)

    assert "score" in answer(token, 9).field_errors()
    assert answer(token, 5).status == 201


def tampered(token: str, **claims: Any) -> str:
    body, signature = token.split(".")
    payload = {**json.loads(unb64url(body)), **claims}
    return f"{b64url(json.dumps(payload).encode())}.{signature}"


def test_a_tampered_token_is_refused_and_names_nothing_of_its_tenant(new_tenant, stream, cloud):
    # Given a link of tenant A, altered to point at tenant B
    owner, other = new_tenant(), new_tenant()
    make_survey(owner)
    [token] = tokens(owner, stream, cloud, 1)

    # When it is answered
    reply = answer(tampered(token, t=other.id), 10)

    # Then it is refused, naming neither tenant, and nothing is recorded
    problem = reply.field_errors()
    assert "token" in problem and owner.id not in reply.text and other.id not in reply.text
    assert call(owner.agent, "GET", RESPONSES).json["items"] == []
    assert call(other.agent, "GET", RESPONSES).json["items"] == []


@pytest.mark.parametrize("token", ["", "garbage", "a.b.c", "x" * 2000])
def test_a_malformed_token_is_a_clean_4xx(cloud, token):
    reply = answer(token, 5)
    assert 400 <= reply.status < 500 and reply.content_type == "application/problem+json", reply.text


def test_an_expired_link_is_refused(tenant: Tenant):
    token = links.issue_token(tenant.id, "01ABC-1", datetime.now(UTC) - timedelta(seconds=1))

    reply = answer(token, 5)

    assert "expired" in reply.field_errors()["token"]


def test_a_portal_user_answers_the_survey_of_their_own_ticket_once(tenant: Tenant, stream, cloud):
    # Given a portal user's resolved ticket with its invitation
    make_survey(tenant)
    portal = tenant.portal_user(tenant.client()["id"])
    ticket = tenant.ticket(by=portal)
    resolve(tenant.agent, ticket)
    stream.drain()

    # When they answer it in the portal, twice
    first = call(portal, "POST", TICKET_ANSWER, {"ticket_id": ticket["id"]}, body={"score": 8})
    second = call(portal, "POST", TICKET_ANSWER, {"ticket_id": ticket["id"]}, body={"score": 8})

    # Then one response is recorded, and the emailed link is used up too
    assert first.status == 201, first.text
    assert first.json["channel"] == "portal" and first.json["respondent"] == {
        "kind": "portal_user",
        "id": portal.user_id,
    }
    second.problem(409)
    answer(token_in(inbox(cloud, portal.email)[0]), 8).problem(409)


def test_a_portal_user_cannot_answer_for_another_clients_or_another_tenants_ticket(new_tenant, stream, cloud):
    owner, other = new_tenant(), new_tenant()
    make_survey(owner)
    ticket = owner.ticket(by=owner.portal_user(owner.client()["id"]))
    resolve(owner.agent, ticket)
    stream.drain()
    neighbour = owner.portal_user(owner.client("Neighbour")["id"], "neighbour")
    stranger = other.portal_user(ticket["client_id"], "stranger")  # even with the owner's client id

    for intruder in (neighbour, stranger):
        call(intruder, "POST", TICKET_ANSWER, {"ticket_id": ticket["id"]}, body={"score": 0}).problem(404)
    assert call(owner.agent, "GET", RESPONSES).json["items"] == []


def test_a_ticket_without_an_invitation_has_no_survey_to_answer(tenant: Tenant):
    portal = tenant.portal_user(tenant.client()["id"])
    ticket = tenant.ticket(by=portal)

    call(portal, "POST", TICKET_ANSWER, {"ticket_id": ticket["id"]}, body={"score": 5}).problem(409)


@pytest.mark.parametrize("group", ["staff", "managers"])
def test_staff_do_not_answer_in_the_portal(tenant: Tenant, group):
    ticket = tenant.ticket()
    user = tenant.agent if group == "staff" else tenant.manager
    call(user, "POST", TICKET_ANSWER, {"ticket_id": ticket["id"]}, body={"score": 5}).problem(403)


# ---- summaries ---------------------------------------------------------------------------------


def test_the_nps_of_10_promoters_5_passives_and_5_detractors_is_25(tenant: Tenant, stream, cloud):
    # Given twenty answers to an NPS survey: ten 9-10, five 7-8, five 0-6
    survey = make_survey(tenant, cooldown_days=0)
    scores = [10, 9] * 5 + [7, 8, 7, 8, 7] + [0, 3, 6, 6, 5]
    for token, score in zip(tokens(tenant, stream, cloud, len(scores)), scores, strict=True):
        assert answer(token, score).status == 201

    # When staff read the NPS summary for today, for the tenant and for the survey
    today = datetime.now(UTC).date().isoformat()
    for query in ({"date_from": today, "date_to": today}, {"survey_id": survey["id"]}):
        reply = call(tenant.agent, "GET", summary("nps"), query=query)

        # Then it counts 10 promoters, 5 passives, 5 detractors: NPS 25
        assert reply.status == 200, reply.text
        assert reply.json == {"responses": 20, "promoters": 10, "passives": 5, "detractors": 5, "nps": 25}


def test_a_summary_counts_only_its_date_range(tenant: Tenant, stream, cloud):
    make_survey(tenant, cooldown_days=0)
    [token] = tokens(tenant, stream, cloud, 1)
    assert answer(token, 10).status == 201

    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    reply = call(tenant.agent, "GET", summary("nps"), query={"date_from": tomorrow})

    assert reply.json == {"responses": 0, "promoters": 0, "passives": 0, "detractors": 0, "nps": None}


def test_csat_and_ces_summaries_give_the_average_and_the_distribution(tenant: Tenant, stream, cloud):
    make_survey(tenant, "csat", cooldown_days=0)
    for token, score in zip(tokens(tenant, stream, cloud, 3), [5, 4, 4], strict=True):
        assert answer(token, score).status == 201

    csat = call(tenant.agent, "GET", summary("csat"))
    ces = call(tenant.agent, "GET", summary("ces"))

    assert csat.json == {"responses": 3, "average": 4.33, "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1}}
    assert ces.json == {"responses": 0, "average": None, "distribution": {str(s): 0 for s in range(1, 8)}}


def test_a_summary_of_a_survey_of_another_kind_is_refused(tenant: Tenant):
    survey = make_survey(tenant, "ces")
    assert "survey_id" in call(tenant.agent, "GET", summary("nps"), query={"survey_id": survey["id"]}).field_errors()


def test_another_tenant_sees_none_of_the_responses_or_their_figures(new_tenant, stream, cloud):
    # Given tenant A with an answered survey
    owner, other = new_tenant(), new_tenant()
    survey = make_survey(owner)
    [token] = tokens(owner, stream, cloud, 1)
    assert answer(token, 10, comment="secret praise").status == 201

    # When tenant B's staff read responses and summaries (naming A's survey, too)
    listed = call(other.agent, "GET", RESPONSES)
    figures = call(other.agent, "GET", summary("nps"))
    by_survey = call(other.agent, "GET", summary("nps"), query={"survey_id": survey["id"]})

    # Then they see nothing of A's
    assert listed.json["items"] == [] and "secret praise" not in listed.text
    assert figures.json["responses"] == 0
    by_survey.problem(404)
    assert call(owner.agent, "GET", summary("nps")).json["responses"] == 1


def test_responses_are_listed_per_survey(tenant: Tenant, stream, cloud):
    first = make_survey(tenant, cooldown_days=0)
    [token] = tokens(tenant, stream, cloud, 1)
    assert answer(token, 10).status == 201
    later = make_survey(tenant, cooldown_days=0)  # the newest active survey is the one sent

    def listed(survey_id: str) -> list[int]:
        reply = call(tenant.agent, "GET", RESPONSES, query={"survey_id": survey_id})
        return [r["score"] for r in reply.json["items"]]

    assert (listed(first["id"]), listed(later["id"])) == ([10], [])

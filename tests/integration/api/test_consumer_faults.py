"""Stream consumers crashing in the middle of a batch. With partial batch failure reporting, Lambda
retries a DynamoDB stream batch from its lowest failed record on, records after it included even if
they succeeded; the end state must still hold one work order per ticket and one invitation per
resolution."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from functions.events import survey_invitations, work_order_automation
from infra.local import outbox
from infra.local.lambda_context import LambdaContext
from shared import mail
from shared.field import automation
from tests.integration.api.field_service_helpers import rule, technician
from tests.integration.api.harness import Tenant, call
from tests.integration.api.test_surveys_api import make_survey, requester, resolve
from tests.integration.api.test_work_order_automation import INSTALLATION_RULE, stream_batch, ticket_work_orders
from tests.integration.faults import Faults, throttled

Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


def deliver_as_lambda(handler: Handler, records: list[dict[str, Any]], name: str, max_attempts: int = 3) -> int:
    """Deliver as Lambda's event source mapping with ReportBatchItemFailures does; how many invocations it took."""
    pending, attempts = records, 0
    while pending:
        attempts += 1
        assert attempts <= max_attempts, "the batch kept failing"
        reply = handler({"Records": pending}, LambdaContext(name))
        failed = {f["itemIdentifier"] for f in reply["batchItemFailures"]}
        first = next((i for i, r in enumerate(pending) if r["dynamodb"]["SequenceNumber"] in failed), None)
        pending = [] if first is None else pending[first:]
    return attempts


@pytest.fixture
def tenant(cloud) -> Tenant:
    """These tests read the table's whole stream: each gets a fresh table, then its tenant."""
    return Tenant()


@pytest.fixture
def five_matching_tickets(tenant: Tenant) -> list[dict[str, Any]]:
    technician(tenant, "theo", capacity=100)
    rule(tenant, **INSTALLATION_RULE)
    return [tenant.ticket(subject=f"Install {n}", priority="high", category="Installation") for n in range(5)]


def test_a_work_order_consumer_crashing_after_the_third_order_retries_without_duplicates(
    tenant: Tenant, cloud, five_matching_tickets, monkeypatch: pytest.MonkeyPatch
):
    # Given the consumer crashes once on the third ticket, after its work order is written
    third = five_matching_tickets[2]["id"]
    real_notify, crashed = automation.notify, []

    def notify(outcome):
        if outcome.ticket.id == third and not crashed:
            crashed.append(third)
            raise RuntimeError("the container died here")
        return real_notify(outcome)

    monkeypatch.setattr(automation, "notify", notify)

    # When the stream batch is delivered, and retried from the failed record on
    attempts = deliver_as_lambda(work_order_automation.handler, stream_batch(cloud), "WorkOrderAutomation")

    # Then it took a retry, and every ticket has exactly one work order, counted once on the technician
    assert (attempts, crashed) == (2, [third])
    assert [len(ticket_work_orders(tenant, t["id"])) for t in five_matching_tickets] == [1] * 5
    assert call(tenant.agent, "GET", "/field-service/technicians").json["items"][0]["open_work_orders"] == 5


def test_a_work_order_consumer_throttled_on_the_third_order_retries_without_duplicates(
    tenant: Tenant, cloud, five_matching_tickets, faults: Faults
):
    # Given the table throttles the third ticket's work order transaction once
    third = five_matching_tickets[2]["id"]
    faults.fail("TransactWriteItems", throttled(), times=1, when=lambda params: third in str(params))

    attempts = deliver_as_lambda(work_order_automation.handler, stream_batch(cloud), "WorkOrderAutomation")

    assert attempts == 2
    orders = [ticket_work_orders(tenant, t["id"]) for t in five_matching_tickets]
    assert [len(o) for o in orders] == [1] * 5
    assert len({o[0]["number"] for o in orders}) == 5


def test_a_survey_consumer_whose_mail_fails_on_the_third_invitation_sends_each_invitation_once(
    tenant: Tenant, cloud, faults: Faults
):
    # Given five resolved tickets of five contacts, and SES refusing the third contact's mail once
    mail._ses.cache_clear()  # this module's moto server
    make_survey(tenant, cooldown_days=0)
    emails = []
    for _ in range(5):
        client_id, contact_id, email = requester(tenant)
        resolve(tenant.agent, tenant.ticket(client_id=client_id, requester_contact_id=contact_id))
        emails.append(email)
    faults.fail("SendRawEmail", throttled(), service="ses", times=1, when=lambda params: emails[2] in str(params))

    # When the stream batch is delivered, and retried from the failed record on
    attempts = deliver_as_lambda(survey_invitations.handler, stream_batch(cloud), "SurveyInvitations")

    # Then every contact got exactly one invitation
    assert attempts == 2
    sent = outbox.messages(cloud.server.url)
    assert [sum(e in m["destinations"]["ToAddresses"] for m in sent) for e in emails] == [1] * 5

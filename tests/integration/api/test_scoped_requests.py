"""Request handlers reach the table and the bucket with their caller's tenant's credentials, for their route's
access profile: every route with roles from the token on, the public survey link once it has named its tenant;
and the scope ends with the request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from shared import credentials
from shared.support.surveys import links
from tests.integration.api.harness import Tenant, call


@pytest.fixture
def entered(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every (tenant, access profile) a request scoped itself to."""
    seen: list[tuple[str, str]] = []
    real = credentials.enter

    def record(tenant_id: str, profile: str) -> credentials.Scope:
        seen.append((tenant_id, profile))
        return real(tenant_id, profile)

    monkeypatch.setattr(credentials, "enter", record)
    return seen


def test_a_request_runs_as_its_callers_tenant_with_its_routes_profile(tenant: Tenant, entered) -> None:
    client = tenant.client()

    reply = call(tenant.agent, "GET", "/crm/clients/{client_id}", {"client_id": client["id"]})

    assert reply.status == 200, reply.text
    assert entered == [(tenant.id, "write"), (tenant.id, "read")]
    assert credentials.current() is None


def test_the_public_survey_link_acts_for_the_tenant_it_names(tenant: Tenant, entered) -> None:
    token = links.issue_token(tenant.id, "01NOSUCHINVITATION-1", datetime.now(UTC) + timedelta(days=1))

    reply = call(None, "POST", "/support/survey-responses", body={"token": token, "score": 9})

    reply.problem(404)
    assert entered == [(tenant.id, "write")]
    assert credentials.current() is None


def test_sts_too_busy_to_issue_credentials_is_a_retryable_503_and_the_retry_works(tenant: Tenant, faults) -> None:
    # Given STS refusing, with its retries spent, to issue this tenant's credentials
    busy = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {"HTTPStatusCode": 400}}
    faults.fail("AssumeRole", busy, times=1, service="sts")

    # When a request arrives, and is retried
    refused = call(tenant.agent, "GET", "/support/tickets")
    retried = call(tenant.agent, "GET", "/support/tickets")

    # Then the first is a 503 the caller may retry, the retry is served
    assert refused.problem(503) and refused.headers["Retry-After"] == "1"
    assert retried.status == 200, retried.text

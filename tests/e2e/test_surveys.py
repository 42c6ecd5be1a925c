"""A satisfaction survey end to end: staff define it, a portal user's ticket is resolved, the
invitation reaches the outbox through the stream consumer, and its link is answered once."""

from __future__ import annotations

import re
import time

from infra.local import outbox
from tests.e2e.waits import PUMP_WAIT_SECONDS

PORTAL = "portal@acme.example"
LINK = re.compile(r"(\S+)/app/survey\?token=(\S+)")


def wait_for_invitation(aws_endpoint_url: str, ticket_number: str) -> list[dict]:
    deadline = time.monotonic() + PUMP_WAIT_SECONDS
    while True:
        # the ticket's own emails (acknowledgement, resolution) carry its number too
        subject = f"How did we do? ({ticket_number})"
        found = [m for m in outbox.messages(aws_endpoint_url) if m.get("subject") == subject]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.25)


def test_a_portal_users_resolved_ticket_brings_a_survey_link_that_answers_once(api, demo, cloud, nps_survey):
    # Given an active survey and a ticket the portal user opened
    ticket = api.create_ticket(demo.portal, subject="Printer jams on page 2")

    # When staff resolve it
    resolved = api.post(f"/support/tickets/{ticket['id']}/resolve", as_=demo.agent)
    assert resolved.status_code == 200, resolved.text

    # Then one invitation reaches the portal user's inbox, with a link to the web app's survey page
    [message] = wait_for_invitation(cloud.details["aws_endpoint_url"], ticket["number"])
    assert message["destinations"]["ToAddresses"] == [PORTAL]
    base, token = LINK.search(message["body"]).groups()
    assert base == cloud.api_url

    # When the link is answered without logging in, and then again
    first = api.post("/support/survey-responses", params={"token": token}, json={"score": 9, "comment": "Fast"})
    second = api.post("/support/survey-responses", params={"token": token}, json={"score": 9})

    # Then the first answer counts, the second is refused, and staff see it in the NPS summary
    assert first.status_code == 201, first.text
    assert second.status_code == 409, second.text
    figures = api.get("/support/survey-responses/nps-summary", as_=demo.agent, params={"survey_id": nps_survey["id"]})
    assert figures.json() == {"responses": 1, "promoters": 1, "passives": 0, "detractors": 0, "nps": 100}

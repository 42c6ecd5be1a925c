"""A campaign to 10,000 contacts on the local cloud: wall time, SES calls, DynamoDB writes per recipient, and
duplicates after a forced crash mid-send and a retry.

Starts the local cloud's moto server in-process (the one ``deskos up`` runs), provisions it from
``infra.resources``, writes a tenant's contacts and a static segment holding them straight into the table (the
setup is not what is measured), then sends the campaign with the sending job's own code
(``shared.marketing.sending``): the first run dies when the confirmation of chunk ``CRASH_AT_CHUNK`` fails (as
if the function crashed between SES accepting a chunk and recording it), then runs go on as the every-minute
job would until the campaign is sent. Every SES call and DynamoDB write is counted at botocore. Prints
figures; exits 0.

    .venv/bin/python -m bench.campaign                  # 10,000 recipients
    BENCH_RECIPIENTS=2000 .venv/bin/python -m bench.campaign
"""

from __future__ import annotations

import os
import time
from collections import Counter
from typing import Any

from botocore.client import BaseClient
from botocore.exceptions import ClientError

from bench.local_cloud import environment, started

RECIPIENTS = int(os.environ.get("BENCH_RECIPIENTS", "10000"))
CRASH_AT_CHUNK = 40  # the confirmation of this chunk fails: 25 recipients claimed, sent, not confirmed
TENANT = "bench-campaign"
SES_RATE = 14  # what the account's quota would allow; the bench itself sends unthrottled

environment("campaign", DESKOS_SES_SEND_RATE="1000000")


class Crash(Exception):
    """The forced crash: the function dies here."""


class Counting:
    """Every SES send (and its recipient) and every DynamoDB item written, through every botocore client; and
    the crash, planned on the ``CRASH_AT_CHUNK``-th confirmation of send records."""

    def __init__(self) -> None:
        self.ses_calls = 0
        self.recipients: Counter[str] = Counter()
        self.writes: Counter[str] = Counter()  # kind of item -> items written
        self.confirmations = 0
        self.crash_armed = True
        self._original = BaseClient._make_api_call

    def __enter__(self) -> Counting:
        original, counting = self._original, self

        def counted(client: BaseClient, operation: str, params: dict[str, Any]) -> Any:
            service = client.meta.service_model.service_name
            if service == "ses" and operation == "SendRawEmail":
                counting.ses_calls += 1
                counting.recipients.update(params["Destinations"])
            if service == "dynamodb":
                counting.count_writes(operation, params)
            return original(client, operation, params)

        BaseClient._make_api_call = counted
        return self

    def __exit__(self, *exc: object) -> None:
        BaseClient._make_api_call = self._original

    def count_writes(self, operation: str, params: dict[str, Any]) -> None:
        if operation in ("PutItem", "UpdateItem", "DeleteItem"):
            self.writes[_kind(params.get("Item") or params.get("Key") or {})] += 1
        elif operation == "BatchWriteItem":
            requests = [r for items in params["RequestItems"].values() for r in items]
            if any("#SENDS" in str(r) for r in requests):
                self.confirmations += 1
                if self.crash_armed and self.confirmations == CRASH_AT_CHUNK:
                    self.crash_armed = False
                    raise Crash(f"forced crash before confirming chunk {CRASH_AT_CHUNK}")
            for request in requests:
                body = request.get("PutRequest", {}).get("Item") or request.get("DeleteRequest", {}).get("Key") or {}
                self.writes[_kind(body)] += 1
        elif operation == "TransactWriteItems":
            for entry in params["TransactItems"]:
                kind, body = next(iter(entry.items()))
                if kind != "ConditionCheck":
                    self.writes[_kind(body.get("Item") or body.get("Key") or {})] += 1


def _kind(item: dict[str, Any]) -> str:
    pk = item.get("PK", {}).get("S", "")
    return "send record" if pk.endswith("#SENDS") else "campaign & counters" if "#CAMPAIGN#" in pk else "other"


def seed(count: int) -> tuple[str, str]:
    """The tenant's contacts, a static segment of all of them, a template and a scheduled campaign."""
    from shared.caller import TenantContext
    from shared.crm.clients import Client
    from shared.crm.contacts import Contact
    from shared.marketing import campaigns, segments, templates
    from shared.marketing.segments import Member, SegmentState
    from shared.tenants import create_tenant

    ctx = TenantContext(tenant_id=TENANT, user_id="bench", username="bench", roles=frozenset())
    create_tenant(TENANT, "Bench Marketing Ltd")
    client = Client.new(ctx, name="Acme", customer_type="premium")
    client.index()
    client.save()
    segment, _ = segments.create(ctx, segments.NewSegment(name="Everyone", kind="static"))
    with Contact.batch_write() as contacts, Member.batch_write() as members:
        for n in range(count):
            contact = Contact.new(ctx, client_id=client.id, name=f"Contact {n:05d}", email=f"c{n:05d}@bench.example")
            contact.index()
            contacts.save(contact)
            members.save(Member.of(TENANT, segment.id, segments.STATIC_GENERATION, contact))
    SegmentState(*SegmentState.key(TENANT, segment.id)).update([SegmentState.member_count.set(count)])
    body = {"name": "Bench", "subject": "News for {{ client.name }}", "html": BODY}
    template, _ = templates.create(ctx, templates.NewEmailTemplate(**body))
    campaign, _ = campaigns.create(
        ctx, campaigns.NewCampaign(name="Bench", template_id=template.id, segment_id=segment.id)
    )
    campaigns.schedule(ctx, campaign.id, campaigns.ScheduleIn(), None)
    return campaign.id, template.id


BODY = """<html><body><h1>Hello {{ contact.first_name | default("there") }}</h1>
<p>News from {{ firm.name }} for {{ client.name }}: <a href="https://example.com/spring">spring offers</a>
and <a href="https://example.com/events">events</a>.</p>
<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p></body></html>"""


def main() -> None:
    import boto3

    from shared.marketing import sending

    with started() as url:
        begun = time.perf_counter()
        campaign_id, _ = seed(RECIPIENTS)
        seeded = time.perf_counter() - begun

        runs, crashed = [], False
        begun = time.perf_counter()
        with Counting() as counting:
            while True:
                try:
                    run = sending.send(TENANT, campaign_id, time.monotonic() + 50)
                except (Crash, ClientError) as error:
                    crashed = True
                    runs.append(f"run {len(runs) + 1}: crashed ({error}) at {time.perf_counter() - begun:.0f} s")
                    print(runs[-1], flush=True)
                    continue
                took = time.perf_counter() - begun
                runs.append(f"run {len(runs) + 1}: sent {run.sent}, skipped {run.skipped}, found done {run.already}")
                print(f"{runs[-1]} ({took:.0f} s so far)", flush=True)
                if run.finished or run.stopped not in (None, "deadline"):
                    break
        wall = time.perf_counter() - begun
        counts = sending.tally(TENANT, campaign_id)
        mailed = len(boto3.client("ses", endpoint_url=url).list_identities()["Identities"])  # a live check

    duplicates = sum(1 for n in counting.recipients.values() if n > 1)
    send_writes = counting.writes["send record"]
    print(f"Campaign to {RECIPIENTS:,} contacts on the local cloud (moto server, in-process); setup {seeded:.1f} s")
    for line in runs:
        print("  " + line)
    print(f"wall time (all runs, crash included): {wall:.1f} s  ({RECIPIENTS / wall:,.0f} recipients/s unthrottled)")
    print(
        f"  at a {SES_RATE}/s SES quota the send itself would take {RECIPIENTS / SES_RATE / 60:.1f} min, in 50 s runs"
    )
    print(f"SES calls: {counting.ses_calls:,} (SendRawEmail, one per email; {mailed} verified identities)")
    print(f"distinct recipients mailed: {len(counting.recipients):,}; recipients mailed twice: {duplicates}")
    unconfirmed = counts["unconfirmed"]
    print(f"forced crash mid-send: {'yes' if crashed else 'NO'}; claimed but unconfirmed after it: {unconfirmed}")
    print(f"tally: {counts}")
    print(
        f"DynamoDB items written: {sum(counting.writes.values()):,} — send records {send_writes:,} "
        f"({send_writes / RECIPIENTS:.2f} per recipient; target <= 2), campaign and counters "
        f"{counting.writes['campaign & counters']}, other {counting.writes['other']}"
    )
    total = sum(counting.writes.values()) / RECIPIENTS
    print(f"all DynamoDB writes per recipient: {total:.3f}")


if __name__ == "__main__":
    main()

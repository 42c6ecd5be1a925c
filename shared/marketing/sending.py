"""Sending a campaign: each member of its segment gets one email, at most once, within the send rate.

Per chunk of ``CHUNK`` members, in order of contact id:
1. one BatchGetItem reads the contacts and any send records they already have (a record means done: never
   mailed again), one more the suppression list for their addresses;
2. one transaction *claims* the new ones: a send record each (``claimed``, or ``skipped`` with why: no address,
   suppressed, gone), each conditioned on not existing, and a check that the campaign is still ``sending`` (so
   ``cancel`` stops the send at the next chunk, and two runs never claim the same contact);
3. SES sends each claimed email (``SendRawEmail``: every email is rendered for its contact, with its own
   unsubscribe headers, so SES's templated bulk call does not fit), paced to ``ses_send_rate()`` per second;
4. one BatchWriteItem *confirms* them: ``sent`` with SES's message id, or ``failed`` with why.
So each recipient costs two writes (a skipped one, one); the campaign adds a few per run.

A crash between SES accepting an email and the confirmation leaves its record ``claimed``: the retry finds
the record and does not send again (at most once: a recipient never gets two copies), and the final tally
counts it as ``unconfirmed`` (it was most likely delivered; SES's delivery event, where configured, says so).
A crash before SES accepted has the same outcome: those recipients get no email from this campaign, and are
counted too. SES refusing for throughput ends the run and releases the claims it did not send.

The run saves where it got to once (``send_cursor``); a run picks up from there. When no member is left, it
tallies the send records (a Query) and marks the campaign ``sent`` with its counts, in one transaction with
the template's ``sent`` counter."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import TransactWriteError

from shared import mail, templating
from shared.clock import now
from shared.crm.clients import Client
from shared.crm.contacts import Contact
from shared.db.due import due_by
from shared.db.errors import THROTTLED, cancelled_by_condition, code_of, storage_errors
from shared.db.table import Item, get_or_none, tkey, transaction
from shared.errors import Conflict
from shared.marketing import counters, message, suppression
from shared.marketing.campaigns import Campaign
from shared.marketing.counters import Counters
from shared.marketing.segments import Member, Segment, state_of
from shared.marketing.sends import SendRecord
from shared.marketing.templates import EmailTemplate, firm_name
from shared.settings import ses_send_rate

logger = logging.getLogger(__name__)

CHUNK = 25  # BatchWriteItem's limit: one confirmation call per chunk
SES_THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "LimitExceeded"})


@dataclass
class Run:
    """What one run did (figures for logs, metrics and the bench)."""

    claimed: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    already: int = 0  # members found with a record: done by an earlier run
    ses_calls: int = 0
    finished: bool = False
    stopped: str | None = None  # why the run ended early: cancelled, throttled, contended, deadline


def due(at: datetime, limit: int = 100) -> list[tuple[str, str]]:
    """(tenant, campaign) of campaigns scheduled for ``at`` or earlier, or sending."""
    with storage_errors():
        entries = Campaign.due.query("CAMPAIGNDUE", due_by(Campaign, at), limit=limit)
        return [(e.DUESK.split("#")[1], e.DUESK.split("#")[2]) for e in entries]


def send(
    tenant_id: str,
    campaign_id: str,
    deadline: float,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Run:
    """Send the campaign's next emails until done, stopped, or ``deadline`` (a ``clock`` reading)."""
    run = Run()
    campaign = _started(tenant_id, campaign_id)
    if campaign is None:
        run.stopped = "not due"
        return run
    template = EmailTemplate.find(tenant_id, campaign.template_id)
    if template is None or Segment.find(tenant_id, campaign.segment_id) is None:
        _fail(campaign, "Its email template or segment was deleted.")
        run.stopped = "failed"
        return run
    owner = tkey(tenant_id, Campaign.prefix, campaign_id)
    progress = get_or_none(Counters, Counters.key(owner))
    cursor = progress.send_cursor if progress else None
    firm, pace = firm_name(tenant_id), _Pace(ses_send_rate(), clock, sleep)
    while clock() < deadline and run.stopped is None:
        state = state_of(tenant_id, campaign.segment_id)
        if state is None:
            _fail(campaign, "Its segment was deleted.")
            run.stopped = "failed"
            return run
        members = _members(tenant_id, campaign.segment_id, int(state.generation), cursor)
        if not members:
            _finish(campaign, template, run)
            return run
        _chunk(campaign, template, firm, members, pace, run)
        if run.stopped is None:
            cursor = members[-1].contact_id
    if run.stopped == "cancelled":
        _tally(campaign, template, final=False)
    else:
        _save_cursor(owner, tenant_id, cursor)
        run.stopped = run.stopped or "deadline"
    return run


# ---- one chunk -----------------------------------------------------------------------------------


def _members(tenant_id: str, segment_id: str, generation: int, after: str | None) -> list[Member]:
    partition = Member.partition(tenant_id, segment_id, generation)
    start = {"PK": {"S": partition}, "SK": {"S": after}} if after else None
    with storage_errors():
        return list(Member.query(partition, limit=CHUNK, page_size=CHUNK, last_evaluated_key=start))


def _chunk(campaign: Campaign, template: EmailTemplate, firm: str, members: list[Member], pace, run: Run) -> None:
    tenant, at = campaign.tenant_id, now()
    keys = [Contact.key(tenant, m.contact_id) for m in members]
    keys += [SendRecord.key(tenant, campaign.id, m.contact_id) for m in members]
    with storage_errors():
        found = list(Item.batch_get(keys))
    contacts = {i.id: i for i in found if isinstance(i, Contact)}
    done = {i.contact_id for i in found if isinstance(i, SendRecord)}
    run.already += len(done)
    fresh = [contacts.get(m.contact_id) or m for m in members if m.contact_id not in done]
    blocked = suppression.suppressed(tenant, [c.email for c in fresh if isinstance(c, Contact) and c.email])
    records = [_claim(campaign, c, blocked, at) for c in fresh]
    if not records or not _claimed(campaign, records, run):
        return
    clients = _clients(tenant, [contacts[r.contact_id] for r in records if r.status == "claimed"])
    confirm: list[SendRecord] = []
    release: list[SendRecord] = []
    for record in (r for r in records if r.status == "claimed"):
        if run.stopped is not None:
            release.append(record)  # not sent: the next run claims it again
            continue
        contact = contacts[record.contact_id]
        pace.wait()
        outcome = _deliver(campaign, template, firm, contact, clients.get(contact.client_id), record, run)
        if outcome == "release":
            release.append(record)
        elif outcome == "done":
            confirm.append(record)
        # "unknown": whether SES took it is not known; it stays claimed (at most once), counted unconfirmed
    with storage_errors(), SendRecord.batch_write() as batch:
        for record in confirm:
            batch.save(record)
        for record in release:
            batch.delete(record)


def _claim(campaign: Campaign, contact: Contact | Member, blocked: set[str], at: datetime) -> SendRecord:
    email = contact.email if isinstance(contact, Contact) else None
    if not isinstance(contact, Contact):
        status, reason = "skipped", "contact deleted"
    elif not email:
        status, reason = "skipped", "no email address"
    elif email.strip().casefold() in blocked:
        status, reason = "skipped", "suppressed"
    else:
        status, reason = "claimed", None
    return SendRecord(
        *SendRecord.key(
            campaign.tenant_id, campaign.id, contact.contact_id if isinstance(contact, Member) else contact.id
        ),
        tenant_id=campaign.tenant_id,
        contact_id=contact.contact_id if isinstance(contact, Member) else contact.id,
        email=email,
        status=status,
        reason=reason,
        at=at,
        updated_by="system:campaign-sender",
    )


def _claimed(campaign: Campaign, records: list[SendRecord], run: Run) -> bool:
    """Claim the chunk in one transaction, while the campaign is still sending; False if it is not (or another
    run claimed first: this run then stops, and that one goes on)."""
    key = Campaign.key(campaign.tenant_id, campaign.id)
    try:
        with storage_errors(), transaction() as tx:
            tx.condition_check(Campaign, *key, condition=Campaign.status == "sending")
            for record in records:
                tx.save(record, condition=SendRecord.PK.does_not_exist())
    except TransactWriteError as error:
        run.stopped = "cancelled" if cancelled_by_condition(error, 0) else "contended"
        return False
    run.claimed += sum(r.status == "claimed" for r in records)
    run.skipped += sum(r.status == "skipped" for r in records)
    return True


def _clients(tenant_id: str, contacts: list[Contact]) -> dict[str, Client]:
    keys = list({Client.key(tenant_id, c.client_id) for c in contacts})
    if not keys:
        return {}
    with storage_errors():
        return {c.id: c for c in Item.batch_get(keys) if isinstance(c, Client)}


def _deliver(campaign, template, firm: str, contact: Contact, client, record: SendRecord, run: Run) -> str:
    """Send one email: "done" (sent, or failed for good), "release" (SES refused it for throughput) or
    "unknown" (the connection failed: SES may have taken it)."""
    who = message.Recipient(campaign.tenant_id, campaign.id, template.id, contact, client)
    try:
        email = message.compose(template, who, firm, now())
    except templating.RenderRefused as error:
        record.status, record.reason = "failed", f"not rendered: {error}"[:500]
        run.failed += 1
        return "done"
    tags = {"tenant": campaign.tenant_id, "campaign": campaign.id, "contact": contact.id, "template": template.id}
    try:
        run.ses_calls += 1
        record.message_id = mail.send(
            [email.to], email.subject, email.text, html=email.html, headers=email.headers, tags=tags
        )
    except ClientError as error:
        if code_of(error) in SES_THROTTLED | THROTTLED:
            run.stopped = "throttled"
            return "release"
        record.status, record.reason = "failed", f"refused by SES: {code_of(error)}"
        run.failed += 1
        return "done"
    except BotoCoreError:
        logger.exception("SES unreachable while sending campaign %s", campaign.id)
        run.stopped = "unreachable"
        return "unknown"
    record.status, record.at = "sent", now()
    run.sent += 1
    return "done"


class _Pace:
    """At most ``rate`` emails a second over the run."""

    def __init__(self, rate: float, clock: Callable[[], float], sleep: Callable[[float], None]) -> None:
        self.rate, self.clock, self.sleep = rate, clock, sleep
        self.start, self.sent = clock(), 0

    def wait(self) -> None:
        ahead = self.start + self.sent / self.rate - self.clock()
        if ahead > 0:
            self.sleep(ahead)
        self.sent += 1


# ---- the campaign's state ------------------------------------------------------------------------


def _started(tenant_id: str, campaign_id: str) -> Campaign | None:
    """The campaign, moved to ``sending`` if it was ``scheduled``; None unless it is sending now."""
    campaign = Campaign.find(tenant_id, campaign_id)
    if campaign is None or campaign.status not in ("scheduled", "sending"):
        return None
    if campaign.status == "scheduled":
        campaign.status, campaign.started_at = "sending", now()
        campaign.updated_by, campaign.updated_at = "system:campaign-sender", now()
        campaign.index()
        try:
            with storage_errors():
                campaign.save()
        except Conflict:
            return None  # cancelled, or started by another run, meanwhile
    return campaign


def _fail(campaign: Campaign, why: str) -> None:
    campaign.status, campaign.failure, campaign.finished_at = "failed", why, now()
    campaign.index()
    try:
        with storage_errors():
            campaign.save()
    except Conflict:
        logger.info("campaign %s changed while failing; left as it is", campaign.id)


def _save_cursor(owner: str, tenant_id: str, cursor: str | None) -> None:
    if cursor is None:
        return
    with storage_errors():
        Counters(*Counters.key(owner)).update([Counters.send_cursor.set(cursor), *counters.made(tenant_id)])


def tally(tenant_id: str, campaign_id: str) -> dict[str, int]:
    """The campaign's send records counted by outcome (a Query of them)."""
    counted = {"recipients": 0, "sent": 0, "skipped": 0, "failed": 0, "unconfirmed": 0}
    with storage_errors():
        for record in SendRecord.query(SendRecord.partition(tenant_id, campaign_id)):
            counted["recipients"] += 1
            counted["unconfirmed" if record.status == "claimed" else record.status] += 1
    return counted


def _finish(campaign: Campaign, template: EmailTemplate, run: Run) -> None:
    run.finished = _tally(campaign, template, final=True)
    if not run.finished:
        run.stopped = "cancelled"


def _tally(campaign: Campaign, template: EmailTemplate, *, final: bool) -> bool:
    """Write the counts; with ``final``, mark the campaign sent in the same transaction. False when the campaign
    was cancelled, or finished by an overlapping run, meanwhile (its counts are still written)."""
    counted = tally(campaign.tenant_id, campaign.id)
    if final:
        campaign.status, campaign.finished_at = "sent", now()
        campaign.updated_by, campaign.updated_at = "system:campaign-sender", now()
        campaign.index()
        try:
            _write_counts(campaign, template, counted, finishing=True)
            return True
        except (TransactWriteError, Conflict):
            logger.info("campaign %s changed before it could be marked sent", campaign.id)
    try:
        _write_counts(campaign, template, counted, finishing=False)
    except TransactWriteError:  # the template already counts this campaign's emails
        with storage_errors():
            _progress(campaign).update(_count_actions(campaign, counted))
    return False


def _write_counts(campaign: Campaign, template: EmailTemplate, counted: dict[str, int], *, finishing: bool) -> None:
    """The campaign's counts, and its emails added to the template's counters once: two runs overlapping at the
    end (the schedule's and a retry's) both get here, so the campaign's counters carry a mark the add is
    conditioned on."""
    with storage_errors(), transaction() as tx:
        if finishing:
            tx.save(campaign)
        tx.update(
            _progress(campaign),
            [*_count_actions(campaign, counted), Counters.template_counted.set(True)],
            condition=Counters.template_counted.does_not_exist(),
        )
        counters.add(tx, template.PK, campaign.tenant_id, sent=counted["sent"])


def _progress(campaign: Campaign) -> Counters:
    return Counters(*Counters.key(tkey(campaign.tenant_id, Campaign.prefix, campaign.id)))


def _count_actions(campaign: Campaign, counted: dict[str, int]) -> list:
    fields = [getattr(Counters, name).set(value) for name, value in counted.items()]
    return [*fields, *counters.made(campaign.tenant_id)]

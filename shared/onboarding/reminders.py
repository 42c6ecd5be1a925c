"""The reminder job: at 09:00 in each tenant's time zone, whoever must act on a late onboarding item hears of it.

Who: the assignee of each open task due tomorrow or overdue (a staff user; for the client's tasks, the client's
portal users), and the client's portal users for each requested (or rejected) document past due; one email per
recipient per run, listing their items. Only items of started processes; none once an item is done.

How it finds them (its reads grow with the items due, not with all items): each remindable item carries the local
date of its next reminder in the sparse system index ``DUE`` (bucket ``ONBDUE#<date>``, see ``model``). The job runs
every ``RATE_MINUTES``; each run reads the buckets from the one after its cursor to tomorrow (UTC+14 is a day
ahead), one Query each, then the items (BatchGetItem, consistent), their processes and tenants. An item is reminded
once its tenant's clock has passed 09:00 on its bucket's date; the reminder moves it to the bucket ``cadence`` days
on (the tenant's setting: daily, or every N days).

At most one reminder per item per day, however often the job runs or is retried: the item is claimed by a write
conditioned on the version read, recording ``reminded_on`` (the local date) and its next bucket, before any email
goes. A second run finds it in a later bucket (or, the index lagging, sees ``reminded_on`` today and moves on); two
runs at once race for the same version and one loses. An email that cannot be sent is not retried (at most once).

The cursor: items are never placed before the day before yesterday in UTC (no local date is earlier), so a bucket
that old found with nothing left in it stays empty; the cursor moves past such buckets and the next run starts after.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from pynamodb.attributes import UnicodeAttribute

from shared import mail
from shared.clock import now
from shared.db.errors import storage_errors
from shared.db.table import Item, get_or_none
from shared.directory import UserProfile
from shared.errors import Conflict
from shared.onboarding import upload_links
from shared.onboarding.model import DUE_PREFIX, Document, Process, ProcessItem, Task
from shared.onboarding.welcome import portal_contacts
from shared.tenants import Tenant

logger = logging.getLogger(__name__)

ACTOR = "system:onboarding-reminders"
RATE_MINUTES = 15  # the job's schedule: every tenant's 09:00 (offsets of 15 minutes) is met within one run
REMINDER_HOUR = 9
FIRST_RUN_DAYS = 31  # how far back the very first run looks
MAX_BUCKETS_PER_RUN = 62
BATCH = 100  # BatchGetItem's limit


class ReminderCursor(Item, discriminator="onboarding_reminder_cursor"):
    """The last bucket (a date) known empty for good (``SYS#ONBREMIND`` / ``CURSOR``)."""

    swept_through = UnicodeAttribute()

    KEY = ("SYS#ONBREMIND", "CURSOR")


@dataclass
class Notice:
    tenant_id: str
    recipients: list[str]
    items: list[ProcessItem] = field(default_factory=list)


@dataclass
class RunResult:
    buckets: int = 0
    due: int = 0  # index entries read
    reminded: int = 0
    waiting: int = 0  # due, but the tenant's 09:00 has not come yet
    notices: list[Notice] = field(default_factory=list)


@dataclass
class _Tenant:
    zone: ZoneInfo
    cadence_days: int


def run(at: datetime) -> RunResult:
    """One run at ``at``: every item whose reminder is due is claimed; ``notify`` sends the notices."""
    result = RunResult()
    cursor = get_or_none(ReminderCursor, ReminderCursor.KEY)
    today = at.astimezone(UTC).date()
    first = (
        date.fromisoformat(cursor.swept_through) + timedelta(days=1) if cursor else today - timedelta(FIRST_RUN_DAYS)
    )
    last = min(today + timedelta(days=1), first + timedelta(days=MAX_BUCKETS_PER_RUN - 1))
    tenants: dict[str, _Tenant] = {}
    settled, contiguous, day = None, True, first
    while day <= last:
        result.buckets += 1
        with storage_errors():
            keys = [(entry.PK, entry.SK) for entry in ProcessItem.due.query(DUE_PREFIX + day.isoformat())]
        left = sum(_handle(keys[i : i + BATCH], day, at, tenants, result) for i in range(0, len(keys), BATCH))
        contiguous = contiguous and left == 0 and day <= today - timedelta(days=2)
        if contiguous:
            settled = day
        day += timedelta(days=1)
    if settled is not None:
        ReminderCursor(*ReminderCursor.KEY, tenant_id="_system", swept_through=settled.isoformat()).save()
    return result


def _handle(keys, day: date, at: datetime, tenants: dict[str, _Tenant], result: RunResult) -> int:
    """Remind what is due among ``keys`` (of bucket ``day``); how many must wait for a later run."""
    result.due += len(keys)
    with storage_errors():
        items = [
            i for i in ProcessItem.batch_get(keys, consistent_read=True) if DUE_PREFIX + day.isoformat() == i.DUEPK
        ]
        process_keys = {Process.key(i.tenant_id, i.process_id) for i in items}
        processes = {(p.tenant_id, p.id): p for p in Process.batch_get(list(process_keys), consistent_read=True)}
    notices: dict[tuple[str, str], Notice] = {}
    left = 0
    for item in items:
        setting = tenants.get(item.tenant_id) or tenants.setdefault(item.tenant_id, _settings(item.tenant_id))
        local = at.astimezone(setting.zone)
        if local.date() < day or (local.date() == day and local.hour < REMINDER_HOUR):
            left += 1
            result.waiting += 1
            continue
        process = processes.get((item.tenant_id, item.process_id))
        today = local.date().isoformat()
        if process is None or process.status in ("completed", "cancelled"):
            _move(item, None)  # reminders stop with the process
        elif process.status == "not_started" or item.reminded_on == today:
            _move(item, (local.date() + timedelta(days=1)).isoformat())  # looked at again tomorrow
        elif _claim(item, today, (local.date() + timedelta(days=setting.cadence_days)).isoformat()):
            result.reminded += 1
            for recipient_key, recipients in _recipients(item):
                notice = notices.setdefault(recipient_key, Notice(item.tenant_id, recipients))
                notice.items.append(item)
    result.notices += notices.values()
    return left


def _settings(tenant_id: str) -> _Tenant:
    tenant = get_or_none(Tenant, Tenant.key(tenant_id))
    zone = ZoneInfo(tenant.time_zone if tenant else "UTC")
    return _Tenant(zone, int(tenant.onboarding_reminder_every_days or 1) if tenant else 1)


def _claim(item: ProcessItem, today: str, next_on: str) -> bool:
    """Record today's reminder and the next one, if nobody changed the item since it was read."""
    item.reminded_on, item.next_reminder_on = today, next_on
    return _write(item)


def _move(item: ProcessItem, next_on: str | None) -> None:
    item.next_reminder_on = next_on
    _write(item)


def _write(item: ProcessItem) -> bool:
    item.updated_at, item.updated_by = now(), ACTOR
    item.index()
    try:
        with storage_errors():
            item.save()
    except Conflict:
        logger.info("onboarding item %s changed during the reminder run; it is looked at again", item.id)
        return False
    return True


def _recipients(item: ProcessItem) -> list[tuple[tuple[str, str], list[str]]]:
    if isinstance(item, Task) and item.assignee_kind == "staff" and item.assignee_id:
        profile = get_or_none(UserProfile, UserProfile.key(item.tenant_id, item.assignee_id))
        if profile is None or not profile.active:
            return []
        return [((item.tenant_id, f"user:{item.assignee_id}"), [profile.email])]
    contacts = portal_contacts(item.tenant_id, item.client_id)
    return [((item.tenant_id, f"client:{item.client_id}"), contacts)] if contacts else []


def notify(notice: Notice) -> None:
    """One email listing the recipient's late items."""
    lines = []
    for item in notice.items:
        kind = "Task" if isinstance(item, Task) else "Document"
        when = "overdue since" if item.due_date < (item.reminded_on or "") else "due"
        lines.append(f"- {kind}: {item.name} — {when} {item.due_date} (process {item.process_id}, item {item.id})")
        if isinstance(item, Document):  # the client's portal users: a link to upload it without signing in
            lines.append(f"  Upload it: {upload_links.url(item)}")
    count = len(notice.items)
    subject = f"[DeskOS] Onboarding reminder: {count} item{'s' if count > 1 else ''} need{'' if count > 1 else 's'} you"
    body = "These onboarding items are waiting for you:\n\n" + "\n".join(lines) + "\n"
    mail.send(notice.recipients, subject, body)

"""The onboarding entities and their keys: a process and, in its own partition, its tasks and document requests.

Keys (docs/access-patterns.md): a template ``T#<t>#ONBTPL#<id>`` / ``ONBTPL``; a process ``T#<t>#ONBPROC#<id>`` /
``ONBPROC`` with its tasks (``TASK#<n>``) and documents (``DOC#<n>``) in the same partition, so one Query reads a
process's items, strongly consistent. A task's or document's id is its process's id (a ULID, 26 characters), ``T``
or ``D``, then its number in the process (``007`` from the template; ``Z<ulid>`` for one added later): the id alone
names its key.

An item of a process materialised in several transactions (a template of more than ``ONE_TRANSACTION`` items) is
written ``staged``: without its list and reminder index keys, which the onboarding stream consumer adds once the
process record exists (``publish``). Until then it is reachable only through its process, which does not exist:
nobody sees a part of a process.

Reminders: an open task from the day before it is due, a requested document from the day after; ``next_reminder_on``
(the tenant's local date) places the item in the sparse system index ``DUE`` (bucket ``ONBDUE#<date>``), which the
reminder job reads bucket by bucket; a done item leaves it. ``reminded_on`` is the local date of the last reminder.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pynamodb.attributes import BooleanAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.expressions.condition import Condition

from shared.caller import TenantContext
from shared.db.due import DueIndex
from shared.db.entities import Entity
from shared.db.table import tkey
from shared.ids import is_ulid

PROCESS_ID_LENGTH = 26
ProcessStatus = Literal["not_started", "in_progress", "completed", "cancelled"]
TaskStatus = Literal["open", "done", "skipped"]
DocumentStatus = Literal["requested", "uploaded", "approved", "rejected"]
AssigneeKind = Literal["staff", "client"]
OPEN_PROCESS = ("not_started", "in_progress")
TASK_DONE = ("done", "skipped")
REMINDED_TASKS = ("open",)
REMINDED_DOCUMENTS = ("requested", "rejected")
DUE_PREFIX = "ONBDUE#"


class Template(Entity, discriminator="onboarding_template"):
    noun, prefix = "onboarding template", "ONBTPL"
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    active = BooleanAttribute(default=True)
    tasks = JSONAttribute(default=list)  # TemplateTask dumps, in order
    documents = JSONAttribute(default=list)  # TemplateDocument dumps, in order

    def index(self) -> None:
        self.GSI1PK, self.GSI1SK = tkey(self.tenant_id, "ONBTPLS"), self.time_order


class Process(Entity, discriminator="onboarding_process"):
    noun, prefix = "onboarding process", "ONBPROC"
    name = UnicodeAttribute()
    template_id = UnicodeAttribute()
    template_version = NumberAttribute()
    client_id = UnicodeAttribute()
    owner_id = UnicodeAttribute()
    status = UnicodeAttribute(default="not_started")
    start_date = UnicodeAttribute()  # ISO date
    target_date = UnicodeAttribute()  # the latest due date of its items
    total = NumberAttribute(default=0)  # tasks and documents
    done = NumberAttribute(default=0)  # tasks done or skipped, documents approved
    required_open = NumberAttribute(default=0)  # tasks not done or skipped, required documents not approved
    published = BooleanAttribute(default=True)  # False: staged items still to publish
    created_by = UnicodeAttribute()
    started_at = UTCDateTimeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)
    completed_by = UnicodeAttribute(null=True)
    forced = BooleanAttribute(default=False)
    cancelled_at = UTCDateTimeAttribute(null=True)
    welcomed_at = UTCDateTimeAttribute(null=True)  # the welcome email was sent (or is being sent)

    @staticmethod
    def partition(tenant_id: str, process_id: str) -> str:
        return tkey(tenant_id, "ONBPROC", process_id)

    def index(self) -> None:
        t, order = self.tenant_id, self.time_order
        self.GSI1PK, self.GSI1SK = tkey(t, "ONBPROCS"), order
        self.GSI2PK, self.GSI2SK = tkey(t, "ONBPROCS", "CLIENT", self.client_id), order
        self.GSI3PK, self.GSI3SK = tkey(t, "ONBPROCS", "OWNER", self.owner_id), order
        self.GSI4PK, self.GSI4SK = tkey(t, "ONBPROCS", "STATUS", self.status), order

    def visible_to(self, ctx: TenantContext) -> bool:
        return not ctx.is_portal or self.client_id == ctx.client_id

    @property
    def progress(self) -> dict[str, int]:
        return {"done": int(self.done), "total": int(self.total)}


class ProcessItem(Entity):
    """What tasks and documents share: their key in the process's partition, the client, the due date, the
    reminder index."""

    kind: str  # "T" or "D", in the id
    sort_prefix: str  # "TASK#" or "DOC#", in the sort key
    reminded_statuses: tuple[str, ...]

    process_id = UnicodeAttribute()
    client_id = UnicodeAttribute()
    name = UnicodeAttribute()
    description = UnicodeAttribute(default="")
    status = UnicodeAttribute()
    due_date = UnicodeAttribute()  # ISO date
    position = NumberAttribute(default=0)  # its order in the process
    staged = BooleanAttribute(default=False)
    next_reminder_on = UnicodeAttribute(null=True)  # the tenant's local date of the next reminder
    reminded_on = UnicodeAttribute(null=True)
    DUEPK = UnicodeAttribute(null=True)
    DUESK = UnicodeAttribute(null=True)
    due = DueIndex()  # by the local date of its next reminder (``shared.onboarding.reminders``)

    @classmethod
    def key(cls, tenant_id: str, entity_id: str) -> tuple[str, str]:
        process_id, kind, number = split_id(entity_id)
        if kind != cls.kind:
            number = "-" + number  # another kind's id names nothing of this kind
        return Process.partition(tenant_id, process_id), cls.sort_prefix + number

    @classmethod
    def id_of(cls, process_id: str, number: str) -> str:
        return f"{process_id}{cls.kind}{number}"

    @property
    def due_order(self) -> str:
        return f"{self.due_date}#{self.id}"

    def first_reminder(self) -> date:
        raise NotImplementedError

    def index(self) -> None:
        if self.staged:  # published later, once its process exists (module docstring)
            self.GSI1PK = self.GSI1SK = self.GSI2PK = self.GSI2SK = self.GSI3PK = self.GSI3SK = None
            self.DUEPK = self.DUESK = None
            return
        self.index_lists()
        if self.status in self.reminded_statuses and self.next_reminder_on:
            self.DUEPK, self.DUESK = DUE_PREFIX + self.next_reminder_on, f"{self.tenant_id}#{self.id}"
        else:
            self.DUEPK = self.DUESK = None

    def index_lists(self) -> None:
        raise NotImplementedError

    def schedule_reminders(self, earliest: date) -> None:
        """Place the item in the reminder index at its first reminder, never before ``earliest``."""
        if self.status in self.reminded_statuses:
            self.next_reminder_on = max(self.first_reminder(), earliest).isoformat()
        else:
            self.next_reminder_on = None


class Task(ProcessItem, discriminator="onboarding_task"):
    noun, prefix = "onboarding task", "ONBTASK"
    kind, sort_prefix, reminded_statuses = "T", "TASK#", REMINDED_TASKS
    assignee_kind = UnicodeAttribute()
    assignee_id = UnicodeAttribute(null=True)  # a staff user; None for the client's tasks
    completed_by = UnicodeAttribute(null=True)
    completed_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def partition_of_assignee(tenant_id: str, kind: str, assignee: str) -> str:
        return tkey(tenant_id, "ONBTASKS", "ASSIGNEE", kind, assignee)

    def index_lists(self) -> None:
        t, order = self.tenant_id, self.due_order
        assignee = self.client_id if self.assignee_kind == "client" else self.assignee_id
        self.GSI1PK, self.GSI1SK = (
            (self.partition_of_assignee(t, self.assignee_kind, assignee), order) if assignee else (None, None)
        )
        self.GSI2PK, self.GSI2SK = tkey(t, "ONBTASKS", "STATUS", self.status), order
        self.GSI3PK, self.GSI3SK = tkey(t, "ONBTASKS"), order

    def visible_to(self, ctx: TenantContext) -> bool:
        return not ctx.is_portal or (self.assignee_kind == "client" and self.client_id == ctx.client_id)

    @property
    def title(self) -> str:
        return self.name

    def first_reminder(self) -> date:
        return date.fromisoformat(self.due_date) - timedelta(days=1)  # due tomorrow

    @property
    def counts_done(self) -> bool:
        return self.status in TASK_DONE

    @property
    def required(self) -> bool:
        return True


class Document(ProcessItem, discriminator="onboarding_document"):
    noun, prefix = "onboarding document", "ONBDOC"
    kind, sort_prefix, reminded_statuses = "D", "DOC#", REMINDED_DOCUMENTS
    required = BooleanAttribute(default=True)
    attachment_id = UnicodeAttribute(null=True)  # the file under review (the latest clean one)
    status_reason = UnicodeAttribute(null=True)  # why the last upload was refused
    refused_attachment_id = UnicodeAttribute(null=True)  # the owner was emailed about this refused file
    reviewed_by = UnicodeAttribute(null=True)
    reviewed_at = UTCDateTimeAttribute(null=True)
    review_note = UnicodeAttribute(null=True)

    @staticmethod
    def partition_of_client(tenant_id: str, client_id: str) -> str:
        return tkey(tenant_id, "ONBDOCS", "CLIENT", client_id)

    def index_lists(self) -> None:
        t, order = self.tenant_id, self.due_order
        self.GSI1PK, self.GSI1SK = tkey(t, "ONBDOCS", "STATUS", self.status), order
        self.GSI2PK, self.GSI2SK = self.partition_of_client(t, self.client_id), order
        self.GSI3PK, self.GSI3SK = tkey(t, "ONBDOCS"), order

    def visible_to(self, ctx: TenantContext) -> bool:
        return not ctx.is_portal or self.client_id == ctx.client_id

    def first_reminder(self) -> date:
        return date.fromisoformat(self.due_date) + timedelta(days=1)  # past due

    @property
    def counts_done(self) -> bool:
        return self.status == "approved"


def split_id(item_id: str) -> tuple[str, str, str]:
    """(process id, kind, number) of a task's or document's id; a malformed id names no process."""
    process_id, kind = item_id[:PROCESS_ID_LENGTH], item_id[PROCESS_ID_LENGTH : PROCESS_ID_LENGTH + 1]
    number = item_id[PROCESS_ID_LENGTH + 1 :]
    if not is_ulid(process_id) or not number:
        return "-", "-", item_id or "-"
    return process_id, kind, number


def all_of(*conditions: Condition | None) -> Condition | None:
    """The filter of every condition given (None: no filter)."""
    combined = None
    for condition in (c for c in conditions if c is not None):
        combined = condition if combined is None else combined & condition
    return combined


def outstanding(item: Task | Document) -> bool:
    """Whether the item keeps its process from completing."""
    return bool(item.required) and not item.counts_done

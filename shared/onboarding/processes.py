"""Onboarding processes: materialised from a template, started, completed (or forced), cancelled.

Materialising (``create``): DynamoDB transactions hold at most 100 items. A template that fits one transaction
(``ONE_TRANSACTION`` items, beside the process and the checks of its client and owner) is written in one. A larger
one is written in transactions of ``CHUNK`` items, each conditioned on the process not existing, its items
``staged`` (no list or reminder keys: see ``model``), then the process last, conditioned on not existing, with the
client and owner checks; the onboarding stream consumer then publishes the staged items (``publish``). Until the
process record exists nothing of it is reachable (its id is known to nobody yet); a failed write removes the staged
items again, and a crash leaves them to the retry. The process id is derived from the ``Idempotency-Key`` (``id_for``):
a retry rewrites the same items and finds the same process, which it returns.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import Field
from pynamodb.constants import ITEM
from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from shared.caller import TenantContext
from shared.clock import now
from shared.crm.clients import Client
from shared.db.entities import expect_version, require_state, save
from shared.db.errors import cancelled_by_condition, storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import get_or_none, tkey, transaction
from shared.directory import UserProfile, active_staff
from shared.errors import Conflict, Forbidden, Unprocessable
from shared.ids import new_id
from shared.onboarding.model import (
    OPEN_PROCESS,
    Document,
    Process,
    ProcessItem,
    ProcessStatus,
    Task,
    all_of,
    outstanding,
)
from shared.onboarding.templates import Template
from shared.schemas import Audited, Date, Id, Strict, Version

ONE_TRANSACTION = 97  # items beside the process put and the client and owner checks
CHUNK = 99  # staged items per transaction, beside the check that the process does not exist
NO_CLIENT = "No such client."
_INDEX_KEYS = ("GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK", "GSI3PK", "GSI3SK", "DUEPK", "DUESK")  # what publish sets
_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class NewProcess(Strict):
    client_id: Id
    owner_id: Id = Field(description="A staff user of the tenant, who owns the process (and its staff tasks).")
    start_date: Date


class CompleteProcess(Strict):
    force: bool = Field(default=False, description="A manager may complete a process with items still missing.")
    version: Version = None


class ProcessFilters(Strict):
    status: ProcessStatus | None = None
    client_id: Id | None = None
    owner_id: Id | None = None


class Progress(Strict):
    done: int
    total: int


class ProcessOut(Audited):
    id: str
    name: str
    template_id: str
    template_version: int
    client_id: str
    owner_id: str
    status: ProcessStatus
    start_date: date
    target_date: date
    progress: Progress
    created_by: str
    started_at: datetime | None
    completed_at: datetime | None
    completed_by: str | None
    forced: bool
    cancelled_at: datetime | None


class Missing(Strict):
    kind: str
    id: str
    name: str
    status: str


# ---- materialising -----------------------------------------------------------------------------


def id_for(ctx: TenantContext, idempotency_key: str | None) -> str | None:
    """The process id a create with this Idempotency-Key gets, the same on every retry (None: a fresh one)."""
    if idempotency_key is None:
        return None
    digest = hashlib.sha256(f"{ctx.tenant_id}\n{ctx.user_id}\n{idempotency_key}".encode()).digest()
    value = int.from_bytes(digest[:16], "big") >> 2  # 126 bits: 26 Crockford characters, the first below 8
    return "".join(_CROCKFORD[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def create(ctx: TenantContext, template_id: str, body: NewProcess, *, process_id: str | None = None) -> Process:
    template = Template.load(ctx, template_id)
    if not template.active:
        raise Conflict("An inactive onboarding template cannot start a process.")
    process = Process.new(
        ctx,
        process_id or new_id(),
        name=template.name,
        template_id=template.id,
        template_version=int(template.version),
        client_id=body.client_id,
        owner_id=body.owner_id,
        start_date=body.start_date.isoformat(),
        created_by=ctx.user_id,
    )
    items = materialise(process, template, body.start_date)
    process.total = len(items)
    process.required_open = sum(outstanding(i) for i in items)
    process.target_date = max((i.due_date for i in items), default=process.start_date)
    process.index()
    if len(items) <= ONE_TRANSACTION:
        return _write_final(ctx, process, items) or process
    _check_references(ctx, body)
    process.published = False
    staged = []
    for start in range(0, len(items), CHUNK):
        chunk = items[start : start + CHUNK]
        for item in chunk:
            item.staged = True
            item.index()
        existing = _stage(process, chunk)
        if existing is not None:
            return existing
        staged += chunk
    try:
        return _write_final(ctx, process, []) or process
    except Exception:
        _unstage(staged)
        raise


def materialise(process: Process, template: Template, start: date) -> list[ProcessItem]:
    """The process's tasks (by order, then as listed) and documents, due from ``start``."""
    earliest = now().date() - timedelta(days=1)  # no tenant's local date is earlier (see reminders)
    common = {"process_id": process.id, "client_id": process.client_id, "at": process.created_at}
    items: list[ProcessItem] = []
    ordered = sorted(enumerate(template.tasks), key=lambda pair: (pair[1].get("order", 0), pair[0]))
    for position, (_, spec) in enumerate(ordered):
        staff = spec["assignee_kind"] == "staff"
        items.append(
            _item(
                Task,
                process,
                position,
                start,
                spec,
                name=spec["title"],
                assignee_kind=spec["assignee_kind"],
                assignee_id=process.owner_id if staff else None,
                status="open",
                **common,
            )
        )
    for position, spec in enumerate(template.documents):
        items.append(
            _item(
                Document,
                process,
                position,
                start,
                spec,
                name=spec["name"],
                required=spec["required"],
                status="requested",
                **common,
            )
        )
    for item in items:
        item.schedule_reminders(earliest)
        item.index()
    return items


def _item(model: type[ProcessItem], process: Process, position: int, start: date, spec: dict, **fields: Any):
    due = start + timedelta(days=int(spec.get("due_offset_days", 0)))
    ctx = TenantContext(process.tenant_id, process.created_by, "", frozenset())
    item_id = model.id_of(process.id, f"{position:03d}")
    return model.new(
        ctx, item_id, description=spec.get("description", ""), due_date=due.isoformat(), position=position, **fields
    )


def _check_references(ctx: TenantContext, body: NewProcess) -> None:
    """Before staging anything: the client and the owner (checked again in the final transaction)."""
    if Client.find(ctx.tenant_id, body.client_id) is None:
        raise Unprocessable.field("client_id", NO_CLIENT)
    owner = get_or_none(UserProfile, UserProfile.key(ctx.tenant_id, body.owner_id))
    if owner is None or not owner.is_staff:
        raise active_staff(ctx.tenant_id, body.owner_id, "owner_id").error


def _put(tx: TransactWrite, item: ProcessItem) -> None:
    """Put ``item`` whatever an unfinished earlier attempt left at its key: TransactWrite.save always conditions
    on the version, and what guards these puts is the process's absence, checked in the same transaction."""
    args, kwargs = item._get_save_args(add_version_condition=False)
    tx._put_items.append(item._get_connection().get_operation_kwargs(*args, key=ITEM, **kwargs))


def _stage(process: Process, chunk: list[ProcessItem]) -> Process | None:
    """Write a chunk of staged items unless the process exists already (then it is returned: a retry)."""
    try:
        with storage_errors(), transaction() as tx:
            tx.condition_check(
                Process, *process.key(process.tenant_id, process.id), condition=Process.PK.does_not_exist()
            )
            for item in chunk:
                _put(tx, item)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 0):
            return Process.find(process.tenant_id, process.id)
        raise
    return None


def _write_final(ctx: TenantContext, process: Process, items: list[ProcessItem]) -> Process | None:
    """The process (with ``items``), if neither it exists nor its client or owner is missing; the existing
    process if it does (a retry), else None."""
    client = Client.key(ctx.tenant_id, process.client_id)
    owner = active_staff(ctx.tenant_id, process.owner_id, "owner_id")
    try:
        with storage_errors(), transaction() as tx:
            tx.condition_check(Client, *client, condition=Client.PK.exists())
            tx.condition_check(owner.model, *owner.key, condition=owner.condition)
            tx.save(process, condition=Process.PK.does_not_exist())
            for item in items:
                _put(tx, item)
    except TransactWriteError as error:
        if cancelled_by_condition(error, 2):
            existing = Process.find(ctx.tenant_id, process.id)
            if existing is not None:
                return existing
        if cancelled_by_condition(error, 0):
            raise Unprocessable.field("client_id", NO_CLIENT) from None
        if cancelled_by_condition(error, 1):
            raise owner.error from None
        raise
    return None


def _unstage(items: list[ProcessItem]) -> None:
    """Remove what a failed create staged (best effort: what stays is unreachable, and a retry overwrites it)."""
    with storage_errors(), Task.batch_write() as batch:
        for item in items:
            batch.delete(item)


def publish(tenant_id: str, process_id: str) -> int:
    """Give the staged items of a process their list and reminder keys (the stream consumer calls it once the
    process exists); the number published. An item changed meanwhile was published by its writer."""
    process = Process.find(tenant_id, process_id)
    if process is None or process.published:
        return 0
    published = 0
    for item in items_of(process):
        if not item.staged:
            continue
        item.staged = False
        item.index()
        actions = [
            type(item).staged.set(False),
            *(getattr(type(item), name).set(getattr(item, name)) for name in _INDEX_KEYS),
        ]
        try:
            with storage_errors():
                item.update(actions=actions, condition=type(item).staged == True)  # noqa: E712
            published += 1
        except Conflict:
            continue
    with storage_errors():
        process.update(actions=[Process.published.set(True)], add_version_condition=False)
    return published


# ---- reading -----------------------------------------------------------------------------------


def items_of(process: Process) -> list[ProcessItem]:
    """Every task and document of the process: one Query of its partition (two pages for the largest)."""
    with storage_errors():
        return [
            i
            for i in ProcessItem.query(Process.partition(process.tenant_id, process.id), consistent_read=True)
            if isinstance(i, Task | Document)
        ]


def page(ctx: TenantContext, filters: ProcessFilters, *, limit: int, cursor: str | None) -> Page[Process]:
    t = ctx.tenant_id
    client_id = ctx.client_id if ctx.is_portal else filters.client_id
    conditions = []
    if client_id:
        index, partition = Process.gsi2, tkey(t, "ONBPROCS", "CLIENT", client_id)
        conditions = [Process.status == filters.status if filters.status else None]
        conditions.append(Process.owner_id == filters.owner_id if filters.owner_id else None)
    elif filters.owner_id:
        index, partition = Process.gsi3, tkey(t, "ONBPROCS", "OWNER", filters.owner_id)
        conditions = [Process.status == filters.status if filters.status else None]
    elif filters.status:
        index, partition = Process.gsi4, tkey(t, "ONBPROCS", "STATUS", filters.status)
    else:
        index, partition = Process.gsi1, tkey(t, "ONBPROCS")
    condition = all_of(*conditions)
    name = "onboarding-processes:" + ProcessFilters(
        status=filters.status, client_id=client_id, owner_id=filters.owner_id
    ).model_dump_json(exclude_none=True)
    return query_page(
        index, partition, t, name, limit=limit, cursor=cursor, newest_first=True, filter_condition=condition
    )


# ---- changing ----------------------------------------------------------------------------------


def start(ctx: TenantContext, process_id: str, if_match: int | None) -> Process:
    process = Process.load(ctx, process_id)
    expect_version(process, if_match, required=False)
    require_state(process, ("not_started",), "started")
    process.status, process.started_at = "in_progress", now()
    return save(ctx, process)


def cancel(ctx: TenantContext, process_id: str, if_match: int | None) -> Process:
    process = Process.load(ctx, process_id)
    expect_version(process, if_match, required=False)
    require_state(process, OPEN_PROCESS, "cancelled")
    process.status, process.cancelled_at = "cancelled", now()
    return save(ctx, process)


def complete(ctx: TenantContext, process_id: str, body: CompleteProcess, if_match: int | None) -> Process:
    """Complete the process when nothing required is missing (409 listing what is, read afresh); a manager may
    ``force`` it. The write is conditioned on the count it decided on, so an item reopened meanwhile stops it."""
    process = Process.load(ctx, process_id)
    expect_version(process, body.version, if_match, required=False)
    require_state(process, ("in_progress",), "completed")
    if body.force and not ctx.is_manager:
        raise Forbidden("Only a manager may force a process to complete.")
    if process.required_open and not body.force:
        missing = [
            Missing(kind="task" if isinstance(i, Task) else "document", id=i.id, name=i.name, status=i.status)
            for i in sorted(items_of(process), key=lambda i: (i.kind == "D", int(i.position)))
            if outstanding(i)
        ]
        names = ", ".join(m.name for m in missing[:10]) + (" …" if len(missing) > 10 else "")
        raise Conflict(
            f"{len(missing)} required item(s) are not done: {names}.",
            missing=[m.model_dump() for m in missing],
        )
    process.status, process.completed_at, process.completed_by = "completed", now(), ctx.user_id
    process.forced = bool(process.required_open)
    condition = None if body.force else Process.required_open == 0
    return save(ctx, process, condition=condition)

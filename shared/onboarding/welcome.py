"""The welcome email a client's portal users get when their onboarding process starts (the onboarding stream
consumer sends it). Once: the process is marked ``welcomed_at`` by a conditional write before the email goes,
and the mark is taken back if SES refuses it, so the redelivered record tries again."""

from __future__ import annotations

import logging

from botocore.exceptions import BotoCoreError, ClientError

from shared import mail
from shared.clock import now
from shared.db.errors import storage_errors
from shared.directory import UserProfile
from shared.errors import Conflict
from shared.onboarding import upload_links
from shared.onboarding.model import Document, Process, Task
from shared.onboarding.processes import items_of
from shared.settings import public_url

logger = logging.getLogger(__name__)


def portal_contacts(tenant_id: str, client_id: str) -> list[str]:
    """The active portal users of the client: one Query of the tenant's portal users."""
    with storage_errors():
        users = UserProfile.gsi2.query(
            UserProfile.partition_of_role(tenant_id, "portal"), filter_condition=UserProfile.client_id == client_id
        )
        return sorted({u.email for u in users if isinstance(u, UserProfile) and u.active})


def welcome(process: Process) -> list[str]:
    """Email the client's portal users, once per process; the recipients (none: sent before, or nobody to tell)."""
    recipients = portal_contacts(process.tenant_id, process.client_id)
    if not recipients:
        logger.warning("onboarding process %s started: the client has no portal users to welcome", process.id)
        return []
    try:
        with storage_errors():
            process.update(
                actions=[Process.welcomed_at.set(now())],
                condition=Process.welcomed_at.does_not_exist(),
                add_version_condition=False,
            )
    except Conflict:
        return []  # welcomed already
    try:
        mail.send(recipients, f"Welcome aboard: {process.name}", _body(process))
    except (BotoCoreError, ClientError):
        with storage_errors():
            process.update(actions=[Process.welcomed_at.remove()], add_version_condition=False)
        raise
    return recipients


def _body(process: Process) -> str:
    items = items_of(process)
    todo = [f"- {i.name} (due {i.due_date})" for i in items if isinstance(i, Task) and i.assignee_kind == "client"]
    wanted = [
        f"- {i.name}{'' if i.required else ' (optional)'} (due {i.due_date})\n  Upload it: {upload_links.url(i)}"
        for i in items
        if isinstance(i, Document)
    ]
    lines = [f'Welcome! Your onboarding "{process.name}" has started.', ""]
    if todo:
        lines += ["What we need you to do:", *todo, ""]
    if wanted:
        lines += ["Documents we need from you (upload each by its link, or in the client portal):", *wanted, ""]
    lines.append(f"Process: {process.id}")
    lines.append(f"Your tasks and documents, in the client portal: {public_url()}/app/portal/onboarding")
    return "\n".join(lines) + "\n"

"""Ticket notifications, the stream consumer's side: which change of a ticket or comment tells whom, once.

| change (stream record) | kind | to |
|---|---|---|
| a ticket inserted | ticket_created | the requester (not staff) |
| a public comment by staff | staff_reply | the requester |
| a comment by the requester (portal, email) | requester_reply | the assignee, else the managers |
| a ticket's assignee changed to someone else than who changed it | ticket_assigned | the new assignee |
| a ticket moved into resolved | ticket_resolved | the requester |

Internal notes (``public: false``) tell nobody. Each notification has an id derived from the record's item
and version (``<ticket>.created``, ``<ticket>.comment.<comment>``, ``<ticket>.v<version>.<kind>``): it is
written (conditionally) before the email is sent and marked sent after, so a redelivered record sends nothing
twice, and resends only what a crash left unsent. Mail to the requester carries the ticket's reply address
(Reply-To and Message-ID, ``shared.inbound.mailbox``) and ``Auto-Submitted: auto-generated`` (RFC 3834), so
an auto-reply to it never comes back as a comment. Reads per notification: one BatchGetItem (template,
tenant, ticket when the record is a comment), then one GetItem or Query for the recipients."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared import mail
from shared.clock import now
from shared.crm.contacts import Contact
from shared.db.errors import storage_errors
from shared.db.table import Item, get_or_none, tkey
from shared.directory import UserProfile, active_email, assignee_or_managers
from shared.errors import Conflict
from shared.inbound import mailbox
from shared.settings import public_url
from shared.support import notification_templates as templates
from shared.support.comments import Comment
from shared.support.notification_templates import NotificationTemplate
from shared.support.tickets import Ticket, requester_of
from shared.tenants import Tenant

logger = logging.getLogger(__name__)
KEPT_FOR = timedelta(days=90)  # a notification's record (its de-duplication) outlives any redelivery
REQUESTER_KINDS = ("contact", "portal_user", "email")
REPLY_ABOVE = "##- Please type your reply above this line -##"


class Notification(Item, discriminator="notification"):
    """One email a ticket event owed (``T#<t>#NOTIFICATION#<id>`` / ``NOTIFICATION``, expires after 90 days)."""

    id = UnicodeAttribute()
    kind = UnicodeAttribute()
    ticket_id = UnicodeAttribute()
    to = ListAttribute(of=UnicodeAttribute)
    subject = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    sent_at = UTCDateTimeAttribute(null=True)

    @staticmethod
    def key(tenant_id: str, notification_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "NOTIFICATION", notification_id), "NOTIFICATION"


@dataclass(frozen=True)
class Event:
    """A change that owes an email: its kind, its id, the ticket (as of the change) and the comment, if any."""

    kind: str
    id: str
    tenant_id: str
    ticket_id: str
    ticket: Ticket | None = None
    comment: Comment | None = None


def event_of(name: str, new: dict[str, Any] | None, old: dict[str, Any] | None) -> Event | None:
    """What a stream record (event name, new and old images) owes, if anything."""
    entity = ((new or {}).get("entity") or {}).get("S")
    if entity == "comment" and name == "INSERT":
        comment = Comment.from_raw_data(new)
        if not comment.public:
            return None  # internal notes never leave the firm
        kind = "staff_reply" if comment.author_kind == "staff" else "requester_reply"
        notification_id = f"{comment.ticket_id}.comment.{comment.id}"
        return Event(kind, notification_id, comment.tenant_id, comment.ticket_id, None, comment)
    if entity != "ticket":
        return None
    ticket = Ticket.from_raw_data(new)
    if name == "INSERT":
        return Event("ticket_created", f"{ticket.id}.created", ticket.tenant_id, ticket.id, ticket)
    if name != "MODIFY" or old is None:
        return None
    before = Ticket.from_raw_data(old)
    version = int(ticket.version or 0)
    if ticket.status == "resolved" and before.status != "resolved":
        return Event("ticket_resolved", f"{ticket.id}.v{version}.resolved", ticket.tenant_id, ticket.id, ticket)
    if ticket.assignee_id and ticket.assignee_id != before.assignee_id and ticket.assignee_id != ticket.updated_by:
        return Event("ticket_assigned", f"{ticket.id}.v{version}.assigned", ticket.tenant_id, ticket.id, ticket)
    return None


def deliver(event: Event) -> Notification | None:
    """Send what ``event`` owes, once; the notification, or None when nothing is sent (switched off, nobody
    to tell, or sent before). A redelivered record ends at the one BatchGetItem, which finds it sent."""
    t = event.tenant_id
    keys = [NotificationTemplate.key(t, event.kind), Tenant.key(t), Notification.key(t, event.id)]
    if event.ticket is None:
        keys.append(Ticket.key(t, event.ticket_id))
    with storage_errors():
        found = {item.PK: item for item in Item.batch_get(keys)}
    earlier = found.get(keys[2][0])
    if isinstance(earlier, Notification) and earlier.sent_at is not None:
        return None
    override = found.get(keys[0][0])
    template = templates.current(event.kind, override if isinstance(override, NotificationTemplate) else None)
    ticket = event.ticket or found.get(Ticket.key(t, event.ticket_id)[0])
    if not template.enabled or not isinstance(ticket, Ticket):
        return None
    tenant = found.get(keys[1][0])
    requester_name, requester_email = (
        requester_of(t, ticket.requester) if (ticket.requester or {}).get("kind") in REQUESTER_KINDS else (None, None)
    )
    to_requester = event.kind in templates.TO_REQUESTER
    if to_requester:
        recipients = [requester_email] if requester_email else []
    elif event.kind == "ticket_assigned":
        recipients = active_email(t, ticket.assignee_id)
    else:
        recipients = assignee_or_managers(t, ticket.assignee_id)
    if not recipients:
        return None
    variables = _variables(ticket, event.comment, tenant, requester_name, requester_email)
    from shared.templating import RenderRefused  # Jinja2, imported by this consumer only

    try:
        rendered = templates.render(template, variables)
    except RenderRefused as refused:
        logger.warning("notification %s of tenant %s not sent: %s", event.id, t, refused)
        return None
    notification = Notification(
        *Notification.key(t, event.id),
        tenant_id=t,
        id=event.id,
        kind=event.kind,
        ticket_id=ticket.id,
        to=recipients,
        subject=rendered.subject,
        created_at=now(),
        expiration=int((now() + KEPT_FOR).timestamp()),
    )
    try:
        with storage_errors():
            notification.save(condition=Notification.PK.does_not_exist())
    except Conflict:  # delivered before: send only what that delivery left unsent
        with storage_errors():
            notification = Notification.get(*Notification.key(t, event.id), consistent_read=True)
        if notification.sent_at is not None:
            return None
    _send(notification, rendered, to_requester)
    return notification


def _send(notification: Notification, rendered: templates.RenderedNotificationOut, to_requester: bool) -> None:
    t, ticket_id = notification.tenant_id, notification.ticket_id
    headers = {"Auto-Submitted": "auto-generated", "X-DeskOS-Notification": notification.id}
    text, html, reply_to = rendered.text, rendered.html, None
    if to_requester:
        headers["Message-ID"] = mailbox.reply_message_id(t, ticket_id)
        reply_to = mailbox.reply_address(t, ticket_id)
        text = f"{REPLY_ABOVE}\n\n{text}"
        html = f'<p style="color:#888">{REPLY_ABOVE}</p>\n{html}' if html is not None else None
    mail.send(list(notification.to), rendered.subject, text, html=html, reply_to=reply_to, headers=headers)
    notification.sent_at = now()
    with storage_errors():
        notification.update(actions=[Notification.sent_at.set(notification.sent_at)])


def ticket_url(ticket_id: str) -> str:
    """The ticket's page in the web app (portal users sign in there)."""
    return f"{public_url()}/app/tickets/{ticket_id}"


def _author_name(tenant_id: str, comment: Comment) -> str | None:
    """Who wrote a comment: a user's name, a contact's, or the address of a sender known by address only."""
    if comment.author_kind == "email":
        return comment.author_id
    with storage_errors():
        if comment.author_kind == "contact":
            contact = Contact.find(tenant_id, comment.author_id)
            return contact.name if contact else None
        profile = get_or_none(UserProfile, UserProfile.key(tenant_id, comment.author_id))
    return profile.name if profile else None


def _variables(
    ticket: Ticket, comment: Comment | None, tenant: Any, requester_name: str | None, requester_email: str | None
) -> dict[str, Any]:
    due = next((m.get("due_at") for m in ((ticket.sla or {}).get("metrics") or {}).values() if m.get("due_at")), None)
    requester = ticket.requester or {}
    by_requester = comment is not None and (requester.get("kind"), requester.get("id")) == (
        comment.author_kind,
        comment.author_id,
    )
    # the requester's own reply: its name was read with its address (requester_of), not read again
    author = requester_name if by_requester and requester_name else None
    if comment is not None and author is None:
        author = _author_name(ticket.tenant_id, comment)
    return {
        "firm": {"name": tenant.name if isinstance(tenant, Tenant) else ticket.tenant_id},
        "ticket": {
            "number": ticket.number,
            "subject": ticket.subject,
            "description": ticket.description,
            "status": ticket.status,
            "priority": ticket.priority,
            "url": ticket_url(ticket.id),
            "sla_due": due,
        },
        "requester": {"name": requester_name, "email": requester_email},
        "assignee": {"id": ticket.assignee_id},
        "comment": {"body": comment.body, "author": author or requester_name or ""} if comment else {},
    }

"""What campaign emails' links record, for people who are not signed in: unsubscribes, opens and clicks.

Every route behind them is public and reads a signed token first (``shared.links``; its purpose names the
link: ``message.UNSUBSCRIBE``, ``OPEN``, ``CLICK``): the token alone names the tenant, the campaign, its
template and the contact. Each event counts once per recipient and campaign: the write that records it on the
send record (or the suppression list) is conditioned on its not being there yet, in one transaction with the
counters it adds to; a repeat changes nothing."""

from __future__ import annotations

from pynamodb.exceptions import TransactWriteError

from shared.clock import now
from shared.crm.contacts import Contact
from shared.db.errors import storage_errors
from shared.db.table import tkey, transaction
from shared.errors import NotFound, Unprocessable
from shared.links import Grant, read
from shared.marketing import counters, suppression
from shared.marketing.campaigns import Campaign
from shared.marketing.sends import SendRecord
from shared.marketing.templates import EmailTemplate, firm_name
from shared.schemas import Out


class UnsubscribeOut(Out):
    firm: str
    email: str  # masked: a***@example.com
    unsubscribed: bool


def grant(purpose: str, token: str) -> Grant:
    """The verified token (422 if altered, foreign or expired); a token without a campaign is refused too."""
    found = read(purpose, token, now(), what="link")
    if not isinstance(found.extra.get("c"), str) or not isinstance(found.extra.get("m"), str):
        raise Unprocessable.field("token", "The link is invalid.")
    return found


def unsubscribe_info(given: Grant) -> UnsubscribeOut:
    """What the page shows before asking to confirm: changes nothing (link scanners follow GETs)."""
    contact = _contact(given)
    listed = contact.email is not None and suppression.find(given.tenant_id, contact.email) is not None
    return UnsubscribeOut(firm=firm_name(given.tenant_id), email=_masked(contact.email), unsubscribed=listed)


def unsubscribe(given: Grant) -> UnsubscribeOut:
    """Put the contact's address on the tenant's suppression list at once; counted once on the campaign and
    its template. Unsubscribing again changes nothing."""
    contact = _contact(given)
    if contact.email:
        entry = suppression.entry(
            given.tenant_id, contact.email, "unsubscribed", now(), contact_id=contact.id, campaign_id=given.extra["c"]
        )
        try:
            with storage_errors(), transaction() as tx:
                suppression.add(tx, entry)
                _count(tx, given, unsubscribed=1)
        except TransactWriteError:
            pass  # already on the list (whatever the reason): nothing more to do
    return UnsubscribeOut(firm=firm_name(given.tenant_id), email=_masked(contact.email), unsubscribed=True)


def opened(given: Grant) -> None:
    _first(given, SendRecord.opened_at, opened=1)


def clicked(given: Grant) -> str:
    """Where the link pointed (it was signed into the token when the email was made)."""
    url = given.extra.get("u")
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        raise Unprocessable.field("token", "The link is invalid.")
    _first(given, SendRecord.clicked_at, clicked=1)
    return url


def _first(given: Grant, moment, **counted: int) -> None:
    """Record the event on the recipient's send record if it is the first of its kind, with its counters."""
    record = SendRecord(*SendRecord.key(given.tenant_id, given.extra["c"], given.subject))
    try:
        with storage_errors(), transaction() as tx:
            tx.update(record, [moment.set(now())], condition=SendRecord.PK.exists() & moment.does_not_exist())
            _count(tx, given, **counted)
    except TransactWriteError:
        pass  # counted already (or no such email was sent): the pixel and the redirect answer all the same


def _count(tx, given: Grant, **counted: int) -> None:
    counters.add(tx, tkey(given.tenant_id, Campaign.prefix, given.extra["c"]), given.tenant_id, **counted)
    counters.add(tx, tkey(given.tenant_id, EmailTemplate.prefix, given.extra["m"]), given.tenant_id, **counted)


def _contact(given: Grant) -> Contact:
    contact = Contact.find(given.tenant_id, given.subject)
    if contact is None:
        raise NotFound("No such contact.")
    return contact


def _masked(email: str | None) -> str:
    if not email:
        return ""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"

"""Which polls invite a portal user: an index item per invitee a portal user could be, keyed by the address
that portal user signs in with (the invitee's ``login``, shared/calendar/people.py), newest poll first.

Keys: ``T#<t>#MPINVITED#<lowercased address>`` / ``<poll created at>#<poll id>``; the item names the poll. A
portal user's list is one Query of their partition and one BatchGetItem of the page's polls. The items are
written with the poll, in its transaction (DynamoDB's 100 actions hold the poll, the client check and 98
more); a poll inviting more than that has the rest put first, so no entry is ever missing from a poll that
exists, and an entry whose poll was never written (its transaction failed, the clean-up too) names nothing
and is passed over. Invitees are fixed when the poll is made (a change cannot name new people), so the
entries never change; staff users get none (staff see every poll)."""

from __future__ import annotations

from collections.abc import Iterable

from pynamodb.attributes import UnicodeAttribute

from shared.caller import TenantContext
from shared.db.errors import storage_errors
from shared.db.pages import Page, query_page
from shared.db.table import Item, tkey

IN_TRANSACTION = 98  # entries in the poll's transaction, beside the poll and the client check


class Invitation(Item, discriminator="meeting_poll_invitation"):
    poll_id = UnicodeAttribute()

    @staticmethod
    def partition(tenant_id: str, login: str) -> str:
        return tkey(tenant_id, "MPINVITED", login)


def login_of(ctx: TenantContext) -> str:
    """The address the caller signs in with (the ID token's email; usernames are addresses), lowercased."""
    return (ctx.email or ctx.username).lower()


def entries(tenant_id: str, poll_id: str, order: str, invitees: Iterable[dict]) -> list[Invitation]:
    """One entry per distinct login among ``invitees`` (a stored poll's), for the poll sorted by ``order``."""
    logins = dict.fromkeys(i["login"] for i in invitees if i.get("login"))
    return [
        Invitation(Invitation.partition(tenant_id, login), order, tenant_id=tenant_id, poll_id=poll_id)
        for login in logins
    ]


def stage(staged: list[Invitation]) -> None:
    """Put the entries a transaction cannot hold, before it."""
    with storage_errors(), Invitation.batch_write() as batch:
        for entry in staged:
            batch.save(entry)


def unstage(staged: list[Invitation]) -> None:
    """Remove the entries put for a poll whose transaction failed (best effort: an orphan names nothing)."""
    with storage_errors(), Invitation.batch_write() as batch:
        for entry in staged:
            batch.delete(entry)


def page(ctx: TenantContext, poll_model: type[Item], *, limit: int, cursor: str | None) -> Page:
    """The polls that invite the caller, newest first: a Query of their entries, a BatchGetItem of the polls."""
    login = login_of(ctx)
    found = query_page(
        Invitation,
        Invitation.partition(ctx.tenant_id, login),
        ctx.tenant_id,
        f"polls-invited:{login}",
        limit=limit,
        cursor=cursor,
        newest_first=True,
    )
    keys = [poll_model.key(ctx.tenant_id, entry.poll_id) for entry in found.items]
    with storage_errors():
        polls = {poll.id: poll for poll in poll_model.batch_get(keys)} if keys else {}
    return Page([polls[e.poll_id] for e in found.items if e.poll_id in polls], found.next_cursor)

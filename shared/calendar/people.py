"""Who takes part: attendees of an appointment and invitees of a poll, written as a user, a contact or a
plain email address, resolved once (when the appointment or poll is written) to a name and an address.

A person may carry the IANA zone the emails they get are written in (default: the meeting's). A user, or
a contact with a portal login, keeps the ``user_id`` that lets them act signed in (vote in a poll). Anyone
but staff keeps the ``login``: the lowercased address a portal user who is this person signs in with — a
portal user's own, the portal login's of a contact that has one, else the contact's or the plain address —
under which a portal user finds the polls that invite them (shared/calendar/invitations.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, model_validator

from shared.caller import TenantContext
from shared.crm.contacts import Contact
from shared.db.errors import storage_errors
from shared.db.table import Item, get_or_none
from shared.directory import UserProfile
from shared.errors import Unprocessable
from shared.hours import TimeZone
from shared.schemas import Email, Id, Name, Strict

Kind = Literal["user", "contact", "email"]


class PersonIn(Strict):
    """Exactly one of ``user_id``, ``contact_id`` and ``email``."""

    user_id: Id | None = None
    contact_id: Id | None = None
    email: Email | None = None
    name: Name | None = None
    time_zone: TimeZone | None = None

    @model_validator(mode="after")
    def _one_identity(self) -> PersonIn:
        if sum(v is not None for v in (self.user_id, self.contact_id, self.email)) != 1:
            raise ValueError("give exactly one of user_id, contact_id and email")
        return self


class Person(BaseModel):
    kind: Kind
    id: str | None = None  # the user's or contact's id
    email: str
    name: str
    time_zone: str | None = None
    user_id: str | None = None  # who may act as this person signed in
    client_id: str | None = None  # a contact's client account
    login: str | None = None  # the address a portal user who is this person signs in with (not for staff)

    def stored(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class PersonOut(BaseModel):
    kind: Kind
    id: str | None = None
    email: str
    name: str
    time_zone: str | None = None


def resolve(tenant_id: str, people: Sequence[PersonIn], field: str) -> list[Person]:
    """Each person with their name and address: two BatchGetItems at most (the users and contacts named, then
    the portal logins of those contacts that have one). 422 on ``field[i]`` for a user or contact the tenant
    does not have (another tenant's reads the same), a contact without an address, or the same address twice."""
    keys = [UserProfile.key(tenant_id, p.user_id) for p in people if p.user_id]
    keys += [Contact.key(tenant_id, p.contact_id) for p in people if p.contact_id]
    found = _batch(keys)
    logins = [c.portal_user_id for c in found.values() if isinstance(c, Contact) and c.portal_user_id]
    found.update(_batch([UserProfile.key(tenant_id, user_id) for user_id in logins]))
    resolved: list[Person] = []
    for i, given in enumerate(people):
        where = f"{field}[{i}]"
        if given.user_id:
            profile = found.get(UserProfile.key(tenant_id, given.user_id))
            if not isinstance(profile, UserProfile) or not profile.active:
                raise Unprocessable.field(where, "No such user.")
            person = Person(kind="user", id=profile.user_id, email=profile.email, name=given.name or profile.name)
            person.user_id = profile.user_id
            person.login = None if profile.is_staff else profile.email.lower()
        elif given.contact_id:
            contact = found.get(Contact.key(tenant_id, given.contact_id))
            if not isinstance(contact, Contact):
                raise Unprocessable.field(where, "No such contact.")
            if not contact.email:
                raise Unprocessable.field(where, "This contact has no email address.")
            person = Person(kind="contact", id=contact.id, email=contact.email, name=given.name or contact.name)
            person.user_id, person.client_id = contact.portal_user_id, contact.client_id
            portal = found.get(UserProfile.key(tenant_id, contact.portal_user_id)) if contact.portal_user_id else None
            person.login = (portal.email if isinstance(portal, UserProfile) else contact.email).lower()
        else:
            person = Person(kind="email", email=given.email, name=given.name or given.email.partition("@")[0])
            person.login = given.email.lower()
        person.time_zone = given.time_zone
        if any(p.email.lower() == person.email.lower() for p in resolved):
            raise Unprocessable.field(where, f"{person.email} is listed twice.")
        resolved.append(person)
    return resolved


def _batch(keys: list[tuple[str, str]]) -> dict[tuple[str, str], Any]:
    """The items at ``keys`` (users and contacts alike: one table), by key; one BatchGetItem (none without keys)."""
    if not keys:
        return {}
    with storage_errors():
        return {(item.PK, item.SK): item for item in Item.batch_get(list(dict.fromkeys(keys)))}


def organizer(ctx: TenantContext, organizer_id: str | None) -> Person:
    """The organizer: a named active staff user (one GetItem), or else the caller as their token names them."""
    if organizer_id is None or organizer_id == ctx.user_id:
        email = ctx.email or ctx.username
        return Person(kind="user", id=ctx.user_id, user_id=ctx.user_id, email=email, name=ctx.username or email)
    with storage_errors():
        profile = get_or_none(UserProfile, UserProfile.key(ctx.tenant_id, organizer_id))
    if profile is None or not profile.is_staff:
        raise Unprocessable.field("organizer_id", "Not an active staff user of this tenant.")
    return Person(kind="user", id=profile.user_id, user_id=profile.user_id, email=profile.email, name=profile.name)

"""A tenant's mailbox: its addresses, and what it does with mail from strangers.

Every tenant receives mail at its own subdomain of the inbound domain (``DESKOS_INBOUND_DOMAIN``; locally
``inbound.deskos.local``): ``support@<tenant>.<domain>`` for new requests, ``reply+<tag>@<tenant>.<domain>`` for
replies to a ticket's emails. The tenant is the address's own label, so finding it costs no read and needs
no index; a firm forwards its public address (``help@firm.example``) there. The tag is a signed short token
(``links.sign_address``) naming the ticket, bound to the tenant: a tag copied into another tenant's
address, or altered, names nothing. It also rides in the Message-ID of each notification, so a reply that
went elsewhere (the support address) is still threaded by its References.

Settings (``T#<t>#MAILBOX`` / ``MAILBOX``, versioned): ``unknown_senders``: ``ticket`` (a ticket without a
client) or ``refuse``."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field
from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared import links
from shared.caller import TenantContext, valid_tenant_id
from shared.clock import now
from shared.db.entities import expect_version
from shared.db.errors import storage_errors
from shared.db.table import Item, get_or_none, tkey
from shared.ids import new_id
from shared.schemas import Strict, Version
from shared.settings import inbound_domain

REPLY_PURPOSE = "ticket-reply"
SUPPORT_LOCAL_PART = "support"
UnknownSenders = Literal["ticket", "refuse"]
_REPLY_TAG = re.compile(r"reply\+([0-9a-z]{26}\.[a-z2-7]{16})(?:\.[0-9a-z]+)?@([a-z0-9.-]+)", re.I)


def domain_of(tenant_id: str) -> str:
    return f"{tenant_id}.{inbound_domain()}"


def support_address(tenant_id: str) -> str:
    return f"{SUPPORT_LOCAL_PART}@{domain_of(tenant_id)}"


def reply_address(tenant_id: str, ticket_id: str) -> str:
    return f"reply+{links.sign_address(REPLY_PURPOSE, tenant_id, ticket_id)}@{domain_of(tenant_id)}"


def reply_message_id(tenant_id: str, ticket_id: str) -> str:
    """A notification's Message-ID: unique, and carrying the reply tag for the References of a reply."""
    tag = links.sign_address(REPLY_PURPOSE, tenant_id, ticket_id)
    return f"<reply+{tag}.{new_id().lower()}@{domain_of(tenant_id)}>"


def tenant_of(address: str) -> str | None:
    """The tenant whose mailbox ``address`` is (``…@<tenant>.<inbound domain>``), else None."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    label, dot, rest = domain.partition(".")
    return label if dot and rest == inbound_domain() and valid_tenant_id(label) else None


def is_ours(address: str) -> bool:
    """An address of the inbound domain or one below it: mail from there is DeskOS's own."""
    domain = address.rpartition("@")[2].lower().rstrip(".")
    return domain == inbound_domain() or domain.endswith("." + inbound_domain())


def replied_ticket(tenant_id: str, texts: Iterable[str]) -> str | None:
    """The ticket a reply belongs to: the first valid tag, for this tenant, in addresses or message ids."""
    for text in texts:
        for match in _REPLY_TAG.finditer(text or ""):
            if tenant_of("x@" + match.group(2)) != tenant_id:
                continue
            subject = links.read_address(REPLY_PURPOSE, tenant_id, match.group(1))
            if subject is not None:
                return subject.upper()
    return None


# ---- settings ----------------------------------------------------------------------------------


class Mailbox(Item, discriminator="mailbox"):
    noun: ClassVar[str] = "mailbox"
    unknown_senders = UnicodeAttribute(default="ticket")
    updated_at = UTCDateTimeAttribute(null=True)
    version = NumberAttribute(default=0)

    @staticmethod
    def key(tenant_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "MAILBOX"), "MAILBOX"


class MailboxIn(Strict):
    version: Version = Field(default=None, description="The version you read; required once the settings are saved.")
    unknown_senders: UnknownSenders = Field(
        description="Mail from an address that is no contact or portal user: a ticket without client, or refused."
    )


class MailboxOut(Strict):
    support_address: str = Field(description="Where clients write (forward the firm's own address here).")
    unknown_senders: UnknownSenders
    version: int = Field(description="0 until the settings are first saved.")
    updated_at: datetime | None


def find(tenant_id: str) -> Mailbox:
    with storage_errors():
        found = get_or_none(Mailbox, Mailbox.key(tenant_id))
    return found or Mailbox(*Mailbox.key(tenant_id), tenant_id=tenant_id)


def settings_of(ctx: TenantContext) -> MailboxOut:
    return _out(find(ctx.tenant_id))


def replace(ctx: TenantContext, body: MailboxIn, if_match: int | None) -> MailboxOut:
    mailbox = find(ctx.tenant_id)
    current = int(mailbox.version)
    expect_version(mailbox, body.version, if_match, required=bool(current))  # at 0, any version is stale
    mailbox.unknown_senders = body.unknown_senders
    mailbox.updated_at, mailbox.updated_by, mailbox.version = now(), ctx.user_id, current + 1
    unchanged = Mailbox.version == current if current else Mailbox.PK.does_not_exist()
    with storage_errors("The mailbox settings changed meanwhile; reload and retry."):
        mailbox.save(condition=unchanged)
    return _out(mailbox)


def _out(mailbox: Mailbox) -> MailboxOut:
    return MailboxOut(
        support_address=support_address(mailbox.tenant_id),
        unknown_senders=mailbox.unknown_senders,
        version=int(mailbox.version),
        updated_at=mailbox.updated_at,
    )

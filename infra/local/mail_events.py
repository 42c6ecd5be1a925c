"""What SES would publish about an email the local cloud sent: ``deskos bounce <address> [--complaint]`` finds
the latest campaign email to the address in the outbox, builds the Bounce (or Complaint) event SES's
configuration set would publish for it, and hands it to the same function the cloud's SNS topic invokes."""

from __future__ import annotations

from typing import Any

from infra.local import outbox
from shared.marketing.message import read_campaign_header


def tags_of_latest(aws_endpoint_url: str, address: str) -> dict[str, str] | None:
    """The tags of the latest campaign email to ``address`` (as the sender gave them to SES), or None."""
    wanted = address.strip().casefold()
    for sent in reversed(outbox.messages(aws_endpoint_url)):
        to = [a.casefold() for a in sent.get("destinations", {}).get("ToAddresses", [])]
        header = sent.get("headers", {}).get("X-DeskOS-Campaign")
        if wanted in to and header:
            return read_campaign_header(header)
    return None


def notification(address: str, tags: dict[str, str], *, complaint: bool) -> dict[str, Any]:
    """The SES event notification (configuration-set event publishing) for a hard bounce or a complaint."""
    mail = {"destination": [address], "tags": {name: [value] for name, value in tags.items()}}
    if complaint:
        return {
            "eventType": "Complaint",
            "mail": mail,
            "complaint": {"complainedRecipients": [{"emailAddress": address}]},
        }
    bounce = {"bounceType": "Permanent", "bounceSubType": "General", "bouncedRecipients": [{"emailAddress": address}]}
    return {"eventType": "Bounce", "mail": mail, "bounce": bounce}

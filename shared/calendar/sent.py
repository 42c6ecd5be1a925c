"""Each calendar email goes out once per change and recipient, however often its stream record is delivered:
a marker (kept 30 days) is written, conditioned on its absence, before the email is sent, and removed if
sending fails, so the retry sends it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from shared.clock import now
from shared.db.errors import storage_errors
from shared.db.table import Item, tkey
from shared.errors import Conflict

KEPT = timedelta(days=30)


class Sent(Item, discriminator="calendar_mail_sent"):
    @staticmethod
    def key(tenant_id: str, what: str) -> tuple[str, str]:
        return tkey(tenant_id, "CALMAIL", what), "SENT"


def once(tenant_id: str, what: str, send: Callable[[], object]) -> bool:
    """Run ``send`` unless it ran for ``what`` before; whether it ran now."""
    marker = Sent(*Sent.key(tenant_id, what), tenant_id=tenant_id, expiration=int((now() + KEPT).timestamp()))
    try:
        with storage_errors():
            marker.save(condition=Sent.PK.does_not_exist())
    except Conflict:
        return False
    try:
        send()
    except BaseException:
        with storage_errors():
            marker.delete()
        raise
    return True

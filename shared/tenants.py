"""Tenants (firms) and their settings."""

from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute

from shared.caller import valid_tenant_id
from shared.clock import now
from shared.db.table import Item, tkey
from shared.errors import Conflict, Unprocessable

DEFAULT_ATTACHMENT_LIMIT = 25 * 1024 * 1024


class Tenant(Item, discriminator="tenant"):
    name = UnicodeAttribute()
    time_zone = UnicodeAttribute(default="UTC")
    email_sender = UnicodeAttribute(null=True)
    attachment_limit_bytes = NumberAttribute(default=DEFAULT_ATTACHMENT_LIMIT)
    created_at = UTCDateTimeAttribute()

    @staticmethod
    def key(tenant_id: str) -> tuple[str, str]:
        return tkey(tenant_id, "TENANT"), "TENANT"


def create_tenant(tenant_id: str, name: str, *, time_zone: str = "UTC", actor: str = "operator") -> Tenant:
    if not valid_tenant_id(tenant_id):
        raise Unprocessable.field("tenant_id", "Use 2-40 lowercase letters, digits or dashes.")
    pk, sk = Tenant.key(tenant_id)
    tenant = Tenant(pk, sk, tenant_id=tenant_id, name=name, time_zone=time_zone, created_at=now(), updated_by=actor)
    from pynamodb.exceptions import PutError

    try:
        tenant.save(condition=Tenant.PK.does_not_exist())
    except PutError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            raise Conflict(f"Tenant {tenant_id} already exists.") from None
        raise
    return tenant

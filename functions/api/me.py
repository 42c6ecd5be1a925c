"""Who am I: /me."""

from __future__ import annotations

from pydantic import BaseModel

from functions.api.core import Api
from shared.caller import Role

api = Api("identity")


class MeOut(BaseModel):
    tenant_id: str
    user_id: str
    username: str
    email: str | None
    roles: list[str]
    client_id: str | None


@api.get("/me", roles=frozenset(Role), summary="The caller's tenant, roles and client")
def me() -> MeOut:
    ctx = api.caller()
    return MeOut(
        tenant_id=ctx.tenant_id,
        user_id=ctx.user_id,
        username=ctx.username,
        email=ctx.email,
        roles=sorted(ctx.roles),
        client_id=ctx.client_id,
    )


handler = api.handler

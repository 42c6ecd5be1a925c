"""The caller's tenant and roles come only from verified claims."""

import pytest

from shared.caller import MANAGERS, STAFF, STAFF_PORTAL, Role, TenantContext
from shared.errors import Forbidden, Unauthorized


def claims(**extra):
    return {"sub": "u-1", "cognito:username": "maya", "custom:tenant_id": "acme", **extra}


@pytest.mark.parametrize("groups", [["managers"], "managers", "[managers]", "[managers staff]", "managers,staff"])
def test_a_manager_is_also_staff_whatever_shape_the_groups_claim_has(groups):
    ctx = TenantContext.from_claims(claims(**{"cognito:groups": groups}))
    assert ctx.roles >= {Role.MANAGERS, Role.STAFF}
    assert ctx.is_manager and ctx.is_staff and not ctx.is_portal


def test_a_portal_user_carries_its_client_account():
    ctx = TenantContext.from_claims(claims(**{"cognito:groups": ["portal"], "custom:client_id": "C1"}))
    assert ctx.is_portal and ctx.client_id == "C1"
    ctx.require(STAFF_PORTAL)
    with pytest.raises(Forbidden):
        ctx.require(STAFF)


def test_a_portal_user_without_a_client_account_gets_no_role():
    ctx = TenantContext.from_claims(claims(**{"cognito:groups": ["portal"]}))
    assert ctx.roles == frozenset()
    with pytest.raises(Forbidden):
        ctx.require(STAFF_PORTAL)


def test_unknown_groups_grant_nothing():
    ctx = TenantContext.from_claims(claims(**{"cognito:groups": ["admins", "root"]}))
    with pytest.raises(Forbidden):
        ctx.require(MANAGERS | STAFF_PORTAL)


def test_no_claims_is_unauthorized():
    with pytest.raises(Unauthorized):
        TenantContext.from_claims(None)


@pytest.mark.parametrize("tenant", ["", "A", "acme#other", "T#x", "x" * 41, "../acme"])
def test_a_missing_or_malformed_tenant_is_refused(tenant):
    with pytest.raises(Forbidden):
        TenantContext.from_claims(claims(**{"custom:tenant_id": tenant, "cognito:groups": ["staff"]}))

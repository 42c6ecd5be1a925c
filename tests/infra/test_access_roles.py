"""Tenant isolation in IAM: request routes reach the table and the bucket only through a tenant-access role,
whose policy is limited to the keys of the tenant named by the session tag."""

from __future__ import annotations

import pytest

from functions.api.catalog import routes
from infra import resources
from shared.credentials import profile
from shared.settings import tenant_role_variable
from tests.infra.test_stack import (
    WRITE_ACTIONS,
    _listed,
    _refs,
    _role_of,
    _route_functions,
    _statements_by_role,
    _tenant_role_of,
)

pytestmark = pytest.mark.infra

TENANT_KEYS = "T#${aws:PrincipalTag/tenant_id}#*"
TENANT_OBJECTS = "/t/${aws:PrincipalTag/tenant_id}/*"


def _tenant_roles(synthesized) -> dict[str, dict]:
    return {k: r for k, r in synthesized.of_type("AWS::IAM::Role").items() if k.startswith("TenantAccess")}


def _arn_text(value) -> str:
    """A resource ARN as text, the Fn::Join of its parts flattened (tokens shown as their logical ids)."""
    if isinstance(value, str):
        return value
    if "Fn::Join" in value:
        return "".join(_arn_text(part) for part in value["Fn::Join"][1])
    return f"<{next(_refs(value))}>"


def test_each_access_profile_of_the_routes_has_one_tenant_role(synthesized) -> None:
    assert len(_tenant_roles(synthesized)) == len({profile(r.writes, r.s3) for r in routes()})


def test_tenant_roles_reach_only_items_and_index_entries_under_the_tenants_prefix(synthesized) -> None:
    [table_id] = synthesized.of_type("AWS::DynamoDB::Table")
    for name, role in _tenant_roles(synthesized).items():
        [policy] = role["Properties"]["Policies"]
        table_statements = [
            s for s in policy["PolicyDocument"]["Statement"] if any(a.startswith("dynamodb:") for a in s["Action"])
        ]
        assert table_statements, name
        for statement in table_statements:
            assert statement["Condition"] == {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [TENANT_KEYS]}}
            arns = {_arn_text(r) for r in _listed(statement["Resource"])}
            assert arns == {f"<{table_id}>", *(f"<{table_id}>/index/{index}" for index in resources.TABLE_INDEXES)}


def test_tenant_roles_reach_only_uploads_under_the_tenants_prefix(synthesized) -> None:
    for name, role in _tenant_roles(synthesized).items():
        [policy] = role["Properties"]["Policies"]
        for statement in policy["PolicyDocument"]["Statement"]:
            if any(a.startswith("s3:") for a in _listed(statement["Action"])):
                [arn] = [_arn_text(r) for r in _listed(statement["Resource"])]
                assert arn.endswith(TENANT_OBJECTS), (name, arn)


def test_a_tenant_role_is_assumed_only_with_a_tenant_session_tag_by_its_profiles_functions(synthesized) -> None:
    for name, role in _tenant_roles(synthesized).items():
        [trust] = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert set(trust["Action"]) == {"sts:AssumeRole", "sts:TagSession"}
        conditions = trust["Condition"]
        assert conditions["StringLike"] == {"aws:RequestTag/tenant_id": "?*"}, name
        assert conditions["ForAllValues:StringEquals"] == {"aws:TagKeys": ["tenant_id"]}, name
        assert list(conditions["StringEquals"]) == ["aws:PrincipalTag/deskos-tenant-access"], name


def test_request_route_functions_have_no_direct_table_or_bucket_access(synthesized) -> None:
    statements = _statements_by_role(synthesized)
    roles = synthesized.of_type("AWS::IAM::Role")
    tenant_roles = _tenant_roles(synthesized)
    for route, function in _route_functions(synthesized).items():
        own = statements[_role_of(function)]
        actions = {a for s in own for a in _listed(s["Action"])}
        assert not {a for a in actions if a.startswith(("dynamodb:", "s3:"))}, route
        # Then it may assume exactly its profile's tenant role, which its role's tag and environment name
        tenant_role = _tenant_role_of(statements, function)
        assert tenant_role in tenant_roles, route
        access = profile(route.writes, route.s3)
        tags = {t["Key"]: t["Value"] for t in roles[_role_of(function)]["Properties"]["Tags"]}
        assert tags["deskos-tenant-access"] == access, route
        trust = tenant_roles[tenant_role]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]
        assert trust["Condition"]["StringEquals"] == {"aws:PrincipalTag/deskos-tenant-access": access}, route
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables[tenant_role_variable(access)] == {"Fn::GetAtt": [tenant_role, "Arn"]}, route


def test_read_profiles_grant_no_writes(synthesized) -> None:
    for name, role in _tenant_roles(synthesized).items():
        if not name.startswith("TenantAccessRead"):
            continue
        [policy] = role["Properties"]["Policies"]
        actions = {a for s in policy["PolicyDocument"]["Statement"] for a in _listed(s["Action"])}
        assert not actions & (WRITE_ACTIONS | {"dynamodb:ConditionCheckItem"}), name
        assert not {a for a in actions if a.startswith("s3:") and a != "s3:GetObject"}, name

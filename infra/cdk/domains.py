"""One nested stack per API domain module of the route catalog: its functions, roles, log group, methods and
error alarms. The parent keeps what the domains share (table, bucket, pool, API and its path tree, tenant roles),
so the parent grows by one resource per domain and a new module needs no edit here.

A CloudFormation stack holds at most 500 resources; a route costs five in its domain's stack (function, role,
policy, invoke permission, method), so a module with more than ``ROUTES_PER_STACK`` routes is split in parts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import groupby

from aws_cdk import NestedStack
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from constructs import Construct

from functions.api.catalog import Route
from infra.cdk import access_roles, api, observability
from infra.cdk.functions import FunctionFactory

ROUTES_PER_STACK = 60  # 5 per route + a log group + an errors alarm per 10 functions: about 310 resources


@dataclass(frozen=True)
class Domain:
    name: str  # construct id of its stack: TicketsApi, FieldServiceApi, BigApi2 …
    module: str
    routes: tuple[Route, ...]


def domains(routes: Sequence[Route]) -> list[Domain]:
    """The routes grouped by module, in parts of at most ``ROUTES_PER_STACK`` (in catalog order)."""
    found = []
    for module, grouped in groupby(sorted(routes, key=lambda r: r.module), key=lambda r: r.module):
        in_module = tuple(grouped)
        title = "".join(part.title() for part in module.removeprefix("functions.api.").replace(".", "_").split("_"))
        for part, start in enumerate(range(0, len(in_module), ROUTES_PER_STACK), start=1):
            name = f"{title}Api" if part == 1 else f"{title}Api{part}"
            found.append(Domain(name, module, in_module[start : start + ROUTES_PER_STACK]))
    return found


class DomainStack(NestedStack):
    def __init__(
        self,
        scope: Construct,
        domain: Domain,
        *,
        rest_api: api.Api,
        factory: FunctionFactory,
        roles: Mapping[str, access_roles.TenantRole],
        alarm_topic: sns.ITopic,
    ) -> None:
        super().__init__(scope, domain.name, description=f"DeskOS API domain {domain.module}")
        self.domain = domain
        own = factory.within(self)
        before = len(factory.functions)
        api.add_routes(rest_api, domain.routes, own, roles)
        self.functions: tuple[lambda_.Function, ...] = tuple(factory.functions[before:])
        observability.function_error_alarms(self, domain.name, self.functions, alarm_topic)


def domain_stacks(
    scope: Construct,
    routes: Sequence[Route],
    *,
    rest_api: api.Api,
    factory: FunctionFactory,
    roles: Mapping[str, access_roles.TenantRole],
    alarm_topic: sns.ITopic,
) -> tuple[DomainStack, ...]:
    return tuple(
        DomainStack(scope, d, rest_api=rest_api, factory=factory, roles=roles, alarm_topic=alarm_topic)
        for d in domains(routes)
    )

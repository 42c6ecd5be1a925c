"""Acknowledged findings of the two template checkers, each with its reason next to the resource:
cdk-nag (v3) at synth, checkov in the infra tests."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnResource, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge findings on ``construct`` and its children; a granular finding is ``Rule[Finding]``."""
    Validations.of(construct).acknowledge(*(Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids))


def skip_checkov(construct: IConstruct, reason: str, *check_ids: str) -> None:
    """Skip checkov checks on ``construct``'s CloudFormation resource (its ``checkov`` metadata, in the template)."""
    resource = construct if isinstance(construct, CfnResource) else construct.node.default_child
    assert isinstance(resource, CfnResource), f"{construct.node.path} has no CloudFormation resource"
    skips = (resource.get_metadata("checkov") or {}).get("skip", [])
    skips.extend({"id": check_id, "comment": reason} for check_id in check_ids)
    resource.add_metadata("checkov", {"skip": skips})

"""cdk-nag (v3) acknowledgements: every rule the stack knowingly breaks, with the reason next to the resource."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, reason: str, *rule_ids: str) -> None:
    """Acknowledge findings on ``construct`` and its children; a granular finding is ``Rule[Finding]``."""
    Validations.of(construct).acknowledge(*(Acknowledgment(id=rule_id, reason=reason) for rule_id in rule_ids))

"""Schedules come from ``infra.resources.SCHEDULES`` alone: adding one needs no infra edit."""

from __future__ import annotations

import pytest

from infra import resources

pytestmark = pytest.mark.infra

SWEEP = resources.Schedule(
    name="SlaSweep", handler="functions.schedules.sla_sweep.handler", rate_minutes=5, writes=("ses", "cloudwatch")
)


@pytest.fixture(scope="module")
def with_a_schedule(fresh_synth):
    # synthesized at once, and the patch undone before any other test (or the session's synth) runs
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(resources, "SCHEDULES", (SWEEP,))
        return fresh_synth()


def test_a_new_schedule_becomes_a_rule_firing_its_function(with_a_schedule) -> None:
    functions = with_a_schedule.of_type("AWS::Lambda::Function")
    [rule] = with_a_schedule.of_type("AWS::Events::Rule").values()
    assert rule["Properties"]["ScheduleExpression"] == "rate(5 minutes)"
    [target] = rule["Properties"]["Targets"]
    function_id = target["Arn"]["Fn::GetAtt"][0]
    assert functions[function_id]["Properties"]["Handler"] == SWEEP.handler
    permissions = with_a_schedule.of_type("AWS::Lambda::Permission").values()
    assert any(
        p["Properties"]["Principal"] == "events.amazonaws.com"
        and p["Properties"]["FunctionName"]["Fn::GetAtt"][0] == function_id
        for p in permissions
    )


def test_a_schedule_gets_what_it_declares_it_writes_and_nag_accepts_it(with_a_schedule) -> None:
    from cdk_nag import AwsSolutionsChecks

    actions = set()
    for policy in with_a_schedule.of_type("AWS::IAM::Policy").values():
        if "SlaSweep" in policy["Properties"]["Roles"][0]["Ref"]:
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
                listed = statement["Action"]
                actions |= {listed} if isinstance(listed, str) else set(listed)
    assert {"ses:SendEmail", "cloudwatch:PutMetricData", "dynamodb:PutItem"} <= actions
    assert "dynamodb:Scan" not in actions
    assert AwsSolutionsChecks().validate_scope(with_a_schedule.app).violations == []

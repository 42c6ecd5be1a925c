"""What marketing adds to the cloud: SES's events about campaign emails reach their consumer, the senders send
through the configuration set (and may), and the open pixel leaves the API as binary."""

from __future__ import annotations

import json

from infra import resources
from infra.cdk import observability
from shared.settings import PUBLIC_URL_PARAMETER


def _function_with_handler(synthesized, handler: str) -> tuple[str, dict]:
    found = [(k, f) for k, f in synthesized.our_functions().items() if f["Properties"]["Handler"] == handler]
    assert len(found) == 1, found
    return found[0]


def test_the_configuration_set_publishes_bounces_complaints_and_deliveries_to_the_consumers_topic(synthesized):
    [configuration_set] = synthesized.of_type("AWS::SES::ConfigurationSet").values()
    assert configuration_set["Properties"]["Name"] == resources.MAIL_EVENTS.configuration_set
    [destination] = synthesized.of_type("AWS::SES::ConfigurationSetEventDestination").values()
    spec = destination["Properties"]["EventDestination"]
    assert sorted(spec["MatchingEventTypes"]) == sorted(e.lower() for e in resources.MAIL_EVENTS.events)
    topic = spec["SnsDestination"]["TopicARN"]["Ref"]
    assert synthesized.resources[topic]["Properties"]["KmsMasterKeyId"]  # encrypted
    consumer, _ = _function_with_handler(synthesized, resources.MAIL_EVENTS.handler)
    subscriptions = synthesized.of_type("AWS::SNS::Subscription").values()
    assert any(
        s["Properties"]["Protocol"] == "lambda"
        and s["Properties"]["TopicArn"] == {"Ref": topic}
        and consumer in str(s["Properties"]["Endpoint"])
        for s in subscriptions
    )


def test_the_campaign_sender_sends_through_the_configuration_set_with_links_to_the_api(synthesized):
    _, function = _function_with_handler(synthesized, "functions.schedules.campaign_send.handler")
    variables = function["Properties"]["Environment"]["Variables"]
    assert variables["DESKOS_SES_CONFIGURATION_SET"] == resources.MAIL_EVENTS.configuration_set
    assert PUBLIC_URL_PARAMETER in variables  # the distribution's address, serving the app's pages and the API
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        p for p in synthesized.of_type("AWS::IAM::Policy").values() if {"Ref": role} in p["Properties"]["Roles"]
    ]
    statements = [s for p in policies for s in p["Properties"]["PolicyDocument"]["Statement"]]
    assert any("configuration-set" in str(s["Resource"]) and "ses:SendRawEmail" in str(s["Action"]) for s in statements)


def test_the_open_pixel_is_served_as_binary(synthesized):
    [api] = synthesized.of_type("AWS::ApiGateway::RestApi").values()
    assert "image/*" in api["Properties"]["BinaryMediaTypes"]


def test_campaign_metrics_are_on_the_dashboard_and_failures_bounces_and_complaints_alarmed(synthesized):
    alarms = [a["Properties"] for a in synthesized.of_type("AWS::CloudWatch::Alarm").values()]
    [failed] = [a for a in alarms if a.get("MetricName") == "CampaignEmailsFailed"]
    assert (failed["Namespace"], failed["Threshold"], failed["Statistic"]) == ("DeskOS", 1, "Sum")
    rates = {}
    for alarm in alarms:
        metrics = {m["Id"]: m for m in alarm.get("Metrics", [])}
        names = {m["MetricStat"]["Metric"]["MetricName"] for m in metrics.values() if "MetricStat" in m}
        if "CampaignEmailsSent" in names:
            [expression] = [m["Expression"] for m in metrics.values() if "Expression" in m]
            rates[(names - {"CampaignEmailsSent"}).pop()] = (alarm["Threshold"], expression)
            assert all(m["MetricStat"]["Period"] == 86400 for m in metrics.values() if "MetricStat" in m)
    assert rates["CampaignBounces"][0] == 5 and rates["CampaignComplaints"][0] == 0.1
    assert "100 * campaignbounces / campaignemailssent" in rates["CampaignBounces"][1]
    assert "100 * campaigncomplaints / campaignemailssent" in rates["CampaignComplaints"][1]
    assert all(a["AlarmActions"] for a in alarms if a.get("MetricName") == "CampaignEmailsFailed" or "Metrics" in a)
    [dashboard] = synthesized.of_type("AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    assert all(name in body for name in observability.CAMPAIGN_METRICS)
    assert "100 * campaignbounces / campaignemailssent" in body


def test_only_campaign_emails_go_through_the_configuration_set(synthesized):
    # an SLA or reminder email's delivery events would invoke the consumer for nothing
    _, sweep = _function_with_handler(synthesized, "functions.schedules.sla_sweep.handler")
    assert "DESKOS_SES_CONFIGURATION_SET" not in sweep["Properties"]["Environment"]["Variables"]

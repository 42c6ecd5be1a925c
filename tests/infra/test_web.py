"""The web app in the synthesized stack: a private bucket read by CloudFront alone (origin access control), one
distribution for the app (/app/*) and the API, the strict CSP and security headers of infra/web.py on the app's
answers, page addresses served index.html, and a generated config.json deployed with the built files."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from infra.cdk.web import public_url_parameter
from infra.web import APP_PREFIX
from shared.settings import PUBLIC_URL_PARAMETER
from tests.infra.test_stack import _listed, _refs, _role_of, _statements_by_role

pytestmark = pytest.mark.infra


def _only(synthesized, resource_type: str) -> dict:
    [found] = synthesized.of_type(resource_type).values()
    return found["Properties"]


def test_the_app_is_in_a_private_bucket_that_only_the_distribution_reads(synthesized) -> None:
    [bucket_id] = [k for k in synthesized.of_type("AWS::S3::Bucket") if k.startswith("WebAppFiles")]
    bucket = synthesized.resources[bucket_id]["Properties"]
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    control = _only(synthesized, "AWS::CloudFront::OriginAccessControl")["OriginAccessControlConfig"]
    assert control["SigningBehavior"] == "always" and control["OriginAccessControlOriginType"] == "s3"
    policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in synthesized.of_type("AWS::S3::BucketPolicy").values()
        if p["Properties"]["Bucket"] == {"Ref": bucket_id}
    ]
    readers = [
        s
        for statements in policies
        for s in statements
        if s.get("Principal") == {"Service": "cloudfront.amazonaws.com"}
    ]
    assert readers and all(s["Action"] == "s3:GetObject" for s in readers)


def test_one_distribution_serves_the_app_with_a_strict_csp_and_the_api_uncached(synthesized) -> None:
    config = _only(synthesized, "AWS::CloudFront::Distribution")["DistributionConfig"]
    [app] = config["CacheBehaviors"]
    assert app["PathPattern"] == f"{APP_PREFIX}/*"
    assert app["FunctionAssociations"][0]["EventType"] == "viewer-request"  # page addresses → index.html
    api = config["DefaultCacheBehavior"]
    assert api["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
    assert set(api["AllowedMethods"]) >= {"GET", "POST", "PUT", "PATCH", "DELETE"}

    headers = _only(synthesized, "AWS::CloudFront::ResponseHeadersPolicy")["ResponseHeadersPolicyConfig"]
    security = headers["SecurityHeadersConfig"]
    csp = json.dumps(security["ContentSecurityPolicy"]["ContentSecurityPolicy"])
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert security["ReferrerPolicy"]["ReferrerPolicy"] == "no-referrer"  # tokens in link addresses stay here
    assert security["FrameOptions"]["FrameOption"] == "DENY"
    assert security["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 31536000


def test_the_built_files_and_a_generated_config_are_deployed_under_app(synthesized) -> None:
    [deployment] = synthesized.of_type("Custom::CDKBucketDeployment").values()
    props = deployment["Properties"]
    assert props["DestinationBucketKeyPrefix"] == "app/"
    assert len(props["SourceBucketNames"]) == 2  # web/dist, and config.json
    # config.json's values are filled in at deploy time: the pool, its app client, the region's Cognito endpoint
    markers = json.dumps(props["SourceMarkers"])
    [pool] = synthesized.of_type("AWS::Cognito::UserPool")
    [client] = synthesized.of_type("AWS::Cognito::UserPoolClient")
    assert f'"Ref": "{pool}"' in markers and f'"Ref": "{client}"' in markers and "cognito-idp." in markers


def test_the_functions_that_send_email_read_where_links_point_from_the_parameter_the_web_app_writes(
    synthesized,
) -> None:
    # Given the parameter the web app writes: a name known before anything exists, the distribution's address
    name = public_url_parameter(synthesized.stack.stack_name)
    [parameter] = synthesized.of_type("AWS::SSM::Parameter").values()
    assert parameter["Properties"]["Name"] == name
    assert set(_refs(parameter["Properties"]["Value"])) == set(synthesized.of_type("AWS::CloudFront::Distribution"))

    # Then each function that may send email (and builds links) is told the name and may read that parameter alone,
    # by its name: no reference to the parameter or the distribution, which depends on the API's functions
    senders = set()
    statements_by_role = _statements_by_role(synthesized)
    for logical_id, function in synthesized.our_functions().items():
        statements = statements_by_role[_role_of(function)]
        variables = function["Properties"]["Environment"]["Variables"]
        reads = [s for s in statements if "ssm:GetParameter" in _listed(s["Action"])]
        assert "DESKOS_PUBLIC_URL" not in variables, logical_id  # the cloud's address comes from the parameter
        if not any("ses:SendRawEmail" in _listed(s["Action"]) for s in statements):
            assert PUBLIC_URL_PARAMETER not in variables and not reads, logical_id
            continue
        senders.add(logical_id)
        assert variables[PUBLIC_URL_PARAMETER] == name, logical_id
        [read] = reads
        assert _listed(read["Action"]) == ["ssm:GetParameter"]
        assert json.dumps(read["Resource"]).endswith(f':parameter{name}"]]}}'), read["Resource"]
        assert set(_refs(read["Resource"])) <= {"AWS::Partition", "AWS::Region", "AWS::AccountId"}
    # among them the route that invites a user (in a domain's nested stack) and the consumers and jobs that mail
    assert any(re.fullmatch(r"InviteUser[0-9A-F]{8}", s) for s in senders)
    handlers = {synthesized.resources[s]["Properties"]["Handler"] for s in senders}
    assert {"functions.events.survey_invitations.handler", "functions.schedules.calendar_sweep.handler"} <= handlers
    # and no domain stack is handed anything of the web app
    distribution_id = next(iter(synthesized.of_type("AWS::CloudFront::Distribution")))
    for nested in synthesized.nested:
        passed = synthesized.template.to_json()["Resources"][nested]["Properties"].get("Parameters", {})
        assert distribution_id not in json.dumps(passed)


def test_the_uploads_bucket_admits_the_distribution_once_it_exists(synthesized) -> None:
    # Given the uploads bucket, whose template leaves CORS to the deploy-time call below
    [uploads] = [k for k in synthesized.of_type("AWS::S3::Bucket") if k.startswith("Uploads")]
    assert "CorsConfiguration" not in synthesized.resources[uploads]["Properties"]

    # Then one SDK call puts its CORS rules: the configured origins and the distribution's
    [cors] = synthesized.of_type("Custom::AWS").values()
    call = _sdk_call(cors["Properties"]["Create"])
    assert call == _sdk_call(cors["Properties"]["Update"])
    assert (call["service"], call["action"]) == ("S3", "PutBucketCors")
    assert call["parameters"]["Bucket"] == {"Ref": uploads}
    [rule] = call["parameters"]["CORSConfiguration"]["CORSRules"]
    assert set(rule["AllowedMethods"]) == {"POST", "PUT", "GET", "HEAD"} and rule["ExposeHeaders"] == ["ETag"]
    [distribution] = synthesized.of_type("AWS::CloudFront::Distribution")
    domain = json.dumps({"Fn::GetAtt": [distribution, "DomainName"]})
    assert rule["AllowedOrigins"] == ["http://localhost:3000", f"https://{domain}"]

    # And the function making the call may do only that, on that bucket
    [policy] = [p for k, p in synthesized.of_type("AWS::IAM::Policy").items() if k.startswith("UploadsCors")]
    [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Action"] == "s3:PutBucketCORS"
    assert statement["Resource"] == {"Fn::GetAtt": [uploads, "Arn"]}


def _sdk_call(value: Any) -> dict:
    """An AwsCustomResource's call, rendered as JSON text joined with references (Fn::Join): parsed, each reference
    written back in place (a string that is just a reference becomes it; one inside a string, its JSON)."""
    if isinstance(value, str):
        return json.loads(value)
    parts = value["Fn::Join"][1]
    references = [part for part in parts if not isinstance(part, str)]
    marks = iter(range(len(references)))
    text = "".join(part if isinstance(part, str) else f"@{next(marks)}@" for part in parts)

    def back(item: Any) -> Any:
        if isinstance(item, dict):
            return {k: back(v) for k, v in item.items()}
        if isinstance(item, list):
            return [back(v) for v in item]
        if isinstance(item, str) and (whole := re.fullmatch(r"@(\d+)@", item)):
            return references[int(whole.group(1))]
        if isinstance(item, str):
            return re.sub(r"@(\d+)@", lambda m: json.dumps(references[int(m.group(1))]), item)
        return item

    return back(json.loads(text))

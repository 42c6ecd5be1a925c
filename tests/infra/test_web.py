"""The web app in the synthesized stack: a private bucket read by CloudFront alone (origin access control), one
distribution for the app (/app/*) and the API, the strict CSP and security headers of infra/web.py on the app's
answers, page addresses served index.html, and a generated config.json deployed with the built files."""

from __future__ import annotations

import json

import pytest

from infra.web import APP_PREFIX

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

"""The web app in the cloud: ``web/dist`` in a private bucket that only CloudFront reads (origin access control),
one distribution in front of both the app (``/app/*``) and the API (everything else), so the app calls the API on
its own origin as it does locally, and emailed links (``/app/survey?token=``…) and API links share one address.
The app's responses carry the security headers and Content-Security-Policy of ``infra/web.py``; a viewer-request
function serves ``index.html`` for every page address; ``config.json`` is generated at deploy time."""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_s3_deployment as deployment
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from infra.cdk.nag import acknowledge, skip_checkov
from infra.web import APP_PREFIX, CONFIG, DIST_DIR, ENTRY, INDEX, SECURITY_HEADERS, app_config, content_security_policy

# A page address (no file extension) under /app/ is the app's index.html: the app routes in the browser.
PAGE_REWRITE = f"""function handler(event) {{
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (request.uri === '{APP_PREFIX}' || last.indexOf('.') === -1) {{ request.uri = '{APP_PREFIX}/{INDEX}'; }}
  return request;
}}"""
HSTS_SECONDS = 63072000  # two years


def public_url_parameter(stack_name: str) -> str:
    """The SSM parameter that holds the distribution's URL, where emailed links point. Named from the stack's
    name, known before anything is created: the functions that send links read it (``infra.cdk.functions``)
    without a reference to the distribution, which depends on the API and so on the API's functions."""
    return f"/{stack_name}/public-url"


@dataclass(frozen=True)
class WebApp:
    bucket: s3.Bucket
    distribution: cloudfront.Distribution

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"


def web_app(
    scope: Construct,
    *,
    rest_api: apigateway.RestApi,
    uploads: s3.IBucket,
    user_pool_id: str,
    client_id: str,
    public_url_parameter: str,
) -> WebApp:
    if not (DIST_DIR / INDEX).is_file():
        raise FileNotFoundError(f"{DIST_DIR} is not built: run scripts/bootstrap.sh (node web/build.mjs)")
    bucket = s3.Bucket(
        scope,
        "WebAppFiles",
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        encryption=s3.BucketEncryption.S3_MANAGED,
        enforce_ssl=True,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        removal_policy=RemovalPolicy.DESTROY,
        auto_delete_objects=False,
    )
    why_no_logs = (
        "The web app's files are public by design (they are the app) and read only by CloudFront through origin "
        "access control; each deploy replaces them whole from web/dist, so neither access logs nor versions hold "
        "anything the repository does not."
    )
    acknowledge(bucket, why_no_logs, "AwsSolutions-S1")
    skip_checkov(bucket, why_no_logs, "CKV_AWS_18", "CKV_AWS_21")

    uploads_origins = f"https://{uploads.bucket_name}.s3.amazonaws.com https://{uploads.bucket_regional_domain_name}"
    headers = cloudfront.ResponseHeadersPolicy(
        scope,
        "WebAppHeaders",
        comment="DeskOS web app: strict CSP and security headers (infra/web.py)",
        security_headers_behavior=cloudfront.ResponseSecurityHeadersBehavior(
            content_security_policy=cloudfront.ResponseHeadersContentSecurityPolicy(
                content_security_policy=content_security_policy(
                    cognito_origin=f"https://cognito-idp.{Aws.REGION}.amazonaws.com", uploads_origin=uploads_origins
                ),
                override=True,
            ),
            content_type_options=cloudfront.ResponseHeadersContentTypeOptions(override=True),
            frame_options=cloudfront.ResponseHeadersFrameOptions(
                frame_option=cloudfront.HeadersFrameOption.DENY, override=True
            ),
            referrer_policy=cloudfront.ResponseHeadersReferrerPolicy(
                referrer_policy=cloudfront.HeadersReferrerPolicy.NO_REFERRER, override=True
            ),
            strict_transport_security=cloudfront.ResponseHeadersStrictTransportSecurity(
                access_control_max_age=Duration.seconds(HSTS_SECONDS), include_subdomains=True, override=True
            ),
        ),
        custom_headers_behavior=cloudfront.ResponseCustomHeadersBehavior(
            custom_headers=[
                cloudfront.ResponseCustomHeader(header=name, value=value, override=True)
                for name, value in SECURITY_HEADERS.items()
                if name in ("Permissions-Policy", "Cross-Origin-Opener-Policy")
            ]
        ),
    )
    pages = cloudfront.Function(
        scope,
        "WebAppPages",
        code=cloudfront.FunctionCode.from_inline(PAGE_REWRITE),
        runtime=cloudfront.FunctionRuntime.JS_2_0,
        comment="DeskOS web app: page addresses serve index.html",
    )
    distribution = cloudfront.Distribution(
        scope,
        "WebApp",
        comment="DeskOS: the web app at /app/ and the API on one origin",
        default_behavior=cloudfront.BehaviorOptions(
            origin=origins.RestApiOrigin(rest_api),
            allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
            viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
            origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        ),
        additional_behaviors={
            f"{APP_PREFIX}/*": cloudfront.BehaviorOptions(
                origin=origins.S3BucketOrigin.with_origin_access_control(bucket),
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=cloudfront.CachePolicy.CACHING_OPTIMIZED,
                response_headers_policy=headers,
                function_associations=[
                    cloudfront.FunctionAssociation(
                        function=pages, event_type=cloudfront.FunctionEventType.VIEWER_REQUEST
                    )
                ],
            )
        },
        http_version=cloudfront.HttpVersion.HTTP2_AND_3,
    )
    acknowledge(
        distribution,
        "The default CloudFront domain is used until the operator adds a custom domain and certificate (its TLS "
        "floor then applies); geo restriction and a WAF web ACL are account-level choices of the operator, and the "
        "API behind it already throttles and authenticates every call; CloudFront's standard logs need ACL-enabled "
        "buckets, which this stack does not create (API Gateway's access logs record every API call).",
        "AwsSolutions-CFR1",
        "AwsSolutions-CFR2",
        "AwsSolutions-CFR3",
        "AwsSolutions-CFR4",
    )
    skip_checkov(
        distribution,
        "Geo restriction, a WAF web ACL and origin failover are operator choices for a deployment; CloudFront's "
        "standard logs need ACL-enabled buckets (API Gateway's access logs record every API call); the default "
        "certificate is used until a custom domain is added.",
        "CKV_AWS_68",
        "CKV_AWS_86",
        "CKV_AWS_174",
        "CKV_AWS_310",
        "CKV_AWS_374",
        "CKV2_AWS_32",
        "CKV2_AWS_47",
    )

    config = app_config(
        api_url="",  # the API is on the distribution's own origin
        region=Aws.REGION,
        user_pool_id=user_pool_id,
        client_id=client_id,
        cognito_endpoint=f"https://cognito-idp.{Aws.REGION}.amazonaws.com/",
    )
    deployment.BucketDeployment(
        scope,
        "WebAppDeployment",
        destination_bucket=bucket,
        destination_key_prefix=f"{APP_PREFIX.strip('/')}/",
        sources=[
            deployment.Source.asset(str(DIST_DIR), exclude=["meta.json"]),
            deployment.Source.json_data(CONFIG, config),
        ],
        distribution=distribution,
        distribution_paths=[f"{APP_PREFIX}/{INDEX}", f"{APP_PREFIX}/{CONFIG}", f"{APP_PREFIX}/{ENTRY}"],
        memory_limit=256,
    )
    for child in Stack.of(scope).node.children:  # CDK's singleton that copies the files, beside the stack's own
        if child.node.id.startswith("Custom::CDKBucketDeployment"):
            acknowledge(
                child,
                "CDK's own deployment function copies the built files into the web app's bucket once per deploy: its "
                "managed policy, wildcard actions on the asset and destination buckets, and runtime are CDK's.",
                "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                *(
                    f"AwsSolutions-IAM5[Action::s3:{a}*]"
                    for a in ("Abort", "DeleteObject", "GetBucket", "GetObject", "List")
                ),
                "AwsSolutions-IAM5[Resource::*]",
                f"AwsSolutions-IAM5[Resource::<{Stack.of(scope).get_logical_id(bucket.node.default_child)}.Arn>/*]",
                "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-<AWS::AccountId>-<AWS::Region>/*]",
                "AwsSolutions-L1",
            )
            skip_checkov(
                child.node.find_child("Resource"),
                "CDK's own deployment step, run by CloudFormation at deploy time only: no dead-letter queue, VPC, "
                "reserved concurrency or code signing applies to it.",
                "CKV_AWS_115",
                "CKV_AWS_116",
                "CKV_AWS_117",
                "CKV_AWS_173",
                "CKV_AWS_272",
            )
            skip_checkov(
                child.node.find_child("ServiceRole").node.find_child("DefaultPolicy").node.find_child("Resource"),
                "CDK's deployment step writes and prunes the web app's files: writing to that bucket is its job.",
                "CKV_AWS_111",
            )
    app = WebApp(bucket, distribution)
    ssm.StringParameter(
        scope,
        "PublicUrl",
        parameter_name=public_url_parameter,
        string_value=app.url,
        description="DeskOS: where emailed links point (the web app's pages and the API, on the distribution)",
    )
    return app

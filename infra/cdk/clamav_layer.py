"""The ClamAV engine and its signatures as a Lambda layer (``layers/clamav``, see its README).

Built in an Amazon Linux 2023 arm64 container by ``layers/clamav/build.sh`` when the stack is
synthesized for deployment (the only part of DeskOS whose build needs Docker); tests skip bundling."""

from __future__ import annotations

from aws_cdk import BundlingOptions, DockerImage
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra.cdk import packaging

SOURCE = packaging.ROOT / "layers" / "clamav"
BUILD_IMAGE = "public.ecr.aws/amazonlinux/amazonlinux:2023"
# Where the layer puts things (layers are unpacked under /opt); read by shared.attachments.scanner.
ENVIRONMENT = {
    "DESKOS_CLAMSCAN": "/opt/clamav/bin/clamscan",
    "DESKOS_CLAMAV_DB": "/opt/clamav/db",
    "LD_LIBRARY_PATH": "/opt/clamav/lib64:/var/lang/lib:/lib64:/usr/lib64:/var/runtime:/var/runtime/lib:/var/task",
}


def layer(scope: Construct) -> lambda_.LayerVersion:
    return lambda_.LayerVersion(
        scope,
        "ClamAv",
        code=lambda_.Code.from_asset(
            str(SOURCE),
            bundling=BundlingOptions(
                image=DockerImage.from_registry(BUILD_IMAGE),
                platform="linux/arm64",
                command=["bash", "/asset-input/build.sh", "/asset-output"],
            ),
        ),
        compatible_runtimes=[packaging.RUNTIME],
        compatible_architectures=[packaging.ARCHITECTURE],
        description="ClamAV engine (clamscan, clamd, freshclam) and signatures for the upload scan",
    )

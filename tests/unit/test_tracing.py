"""The Tracer as Lambda gets it: X-Ray loaded only when an invocation is traced, botocore patched then."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import sys, botocore.client
from functions.api import catalog
for name in catalog.module_names():
    __import__(name)
from functions.observability import tracer
print("at import:", tracer.disabled, "aws_xray_sdk.core" in sys.modules)
with tracer.provider.in_subsegment("## probe"):
    pass
call = botocore.client.BaseClient.__dict__["_make_api_call"]
print("traced:", "aws_xray_sdk.core" in sys.modules, type(call).__name__)
"""


def probe(**env: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "AWS_REGION": "eu-west-1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_in_lambda_xray_loads_with_the_first_traced_invocation_and_patches_botocore():
    # Given a Lambda container (its task root set), When every API module is imported, then a request traced
    at_import, traced = probe(LAMBDA_TASK_ROOT="/var/task")
    # Then X-Ray costs the import nothing, and once tracing, boto calls are traced
    assert at_import == "at import: False False"
    assert traced == "traced: True FunctionWrapper"


def test_outside_lambda_or_when_disabled_xray_never_loads():
    for env in ({}, {"LAMBDA_TASK_ROOT": "/var/task", "POWERTOOLS_TRACE_DISABLED": "true"}):
        assert probe(**env) == ["at import: True False", "traced: False function"], env

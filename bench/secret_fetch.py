"""What reading the cursor secret by ARN adds to a cold start: the first ``settings().cursor_secret`` of a fresh
interpreter (a Secrets Manager client, then one GetSecretValue), against moto on loopback.

Each run is a fresh interpreter that first does what a handler has done by then (boto3 imported, a DynamoDB
client made), so the figure is only what the secret adds. Loopback hides the network: in a region, add one
in-region HTTPS round trip to Secrets Manager. Prints figures; exits 0.

    .venv/bin/python -m bench.secret_fetch [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
from pathlib import Path

from infra.local.moto_server import start_moto

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-1"
FIRST_USE = """
import time, boto3
boto3.client("dynamodb")  # the handler's own client: loaded botocore and the endpoint data already
from shared.settings import settings
start = time.perf_counter()
settings().cursor_secret
first = (time.perf_counter() - start) * 1000
start = time.perf_counter()
settings().cursor_secret
print(first, (time.perf_counter() - start) * 1000)
"""
CLIENT_ONLY = """
import time, boto3
start = time.perf_counter()
boto3.client("dynamodb")
middle = time.perf_counter()
boto3.client("secretsmanager")
print((middle - start) * 1000, (time.perf_counter() - middle) * 1000)
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Cold-start cost of reading the cursor secret by ARN.")
    parser.add_argument("--runs", type=int, default=15, help="fresh interpreters (default 15)")
    runs = parser.parse_args(argv).runs
    server = start_moto()
    try:
        env = {
            **os.environ,
            "AWS_ENDPOINT_URL": server.url,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": REGION,
            "AWS_DEFAULT_REGION": REGION,
            "DESKOS_TABLE": "deskos-bench",
            "DESKOS_BUCKET": "deskos-bench-uploads",
        }
        env.pop("DESKOS_CURSOR_SECRET", None)
        import boto3

        secrets = boto3.client(
            "secretsmanager",
            endpoint_url=server.url,
            region_name=REGION,
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )
        env["DESKOS_CURSOR_SECRET_ARN"] = secrets.create_secret(Name="deskos-bench-cursor", SecretString="k" * 64)[
            "ARN"
        ]
        first, again, client, dynamodb = [], [], [], []
        for _ in range(runs):
            out = subprocess.run(
                [sys.executable, "-c", FIRST_USE], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            )
            ms_first, ms_again = map(float, out.stdout.split()[-2:])
            first.append(ms_first)
            again.append(ms_again)
            out = subprocess.run(
                [sys.executable, "-c", CLIENT_ONLY], cwd=ROOT, env=env, capture_output=True, text=True, check=True
            )
            ms_dynamodb, ms_client = map(float, out.stdout.split()[-2:])
            dynamodb.append(ms_dynamodb)
            client.append(ms_client)
    finally:
        server.stop()
    print(f"cursor secret by ARN, median of {runs} fresh interpreters (moto on loopback):")
    print(f"  first use (client + GetSecretValue): {statistics.median(first):7.1f} ms")
    print(f"    of which the Secrets Manager client: {statistics.median(client):7.1f} ms")
    print(f"  for scale, the handler's first (DynamoDB) client: {statistics.median(dynamodb):7.1f} ms")
    print(f"  every later use (cached):             {statistics.median(again) * 1000:7.1f} µs")
    print("  in a region, add one in-region HTTPS round trip to Secrets Manager (not measured here)")


if __name__ == "__main__":
    main()

"""The local cloud keeps its data between runs: tables and their streams, users and their keys,
objects, and where each stream consumer had got to."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import boto3
import jwt
import pytest

from infra.local.moto_server import MotoServer, start_moto
from infra.local.provision import Provisioned, provision
from infra.local.pump import Pump
from infra.local.seed import create_tenant_with_manager, tenant_exists
from infra.resources import StreamConsumer
from shared.errors import Conflict
from shared.settings import settings
from shared.tenants import create_tenant

PASSWORD = "Maya-pass-1!"


def start(state_dir: Path, use_endpoint, *, fresh: bool = False) -> tuple[MotoServer, Provisioned]:
    server = start_moto(state_dir=state_dir, fresh=fresh, autosave_seconds=0)
    use_endpoint(server.url)
    config = settings()
    return server, provision(server.url, config.region, table_name=config.table_name, bucket_name=config.bucket_name)


def sign_in(resources: Provisioned, username: str) -> str:
    return boto3.client("cognito-idp").initiate_auth(
        ClientId=resources.user_pool_client_id,
        AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
    )["AuthenticationResult"]["IdToken"]


def stream_records() -> list[dict]:
    streams = boto3.client("dynamodbstreams")
    arn = streams.list_streams(TableName=settings().table_name)["Streams"][0]["StreamArn"]
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    iterator = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return streams.get_records(ShardIterator=iterator["ShardIterator"])["Records"]


def signing_keys(server: MotoServer, resources: Provisioned) -> dict:
    with urllib.request.urlopen(f"{server.url}/{resources.user_pool_id}/.well-known/jwks.json") as response:
        return json.load(response)


def test_data_users_keys_and_objects_survive_a_restart_unless_fresh(tmp_path, use_endpoint, monkeypatch):
    server, before = start(tmp_path, use_endpoint)
    monkeypatch.setenv("DESKOS_USER_POOL_ID", before.user_pool_id)
    manager = create_tenant_with_manager(
        tenant_id="acme",
        name="Acme",
        manager_email="maya@acme.example",
        manager_password=PASSWORD,
    )
    boto3.client("s3").put_object(Bucket=before.bucket_name, Key="t/acme/hello.txt", Body=b"hello")
    old_token, records = sign_in(before, manager.username), stream_records()
    server.stop()

    server, after = start(tmp_path, use_endpoint)
    try:
        assert (after.user_pool_id, after.user_pool_client_id) == (before.user_pool_id, before.user_pool_client_id)
        assert tenant_exists("acme")
        with pytest.raises(Conflict, match="Tenant acme already exists"):
            create_tenant("acme", "Acme again")
        assert [r["dynamodb"]["SequenceNumber"] for r in stream_records()] == [
            r["dynamodb"]["SequenceNumber"] for r in records
        ]
        body = boto3.client("s3").get_object(Bucket=after.bucket_name, Key="t/acme/hello.txt")["Body"].read()
        assert body == b"hello"
        claims = jwt.decode(sign_in(after, manager.username), options={"verify_signature": False})
        assert (claims["sub"], claims["custom:tenant_id"], claims["cognito:groups"]) == (
            manager.user_id,
            "acme",
            ["managers"],
        )
        key = jwt.PyJWK(signing_keys(server, after)["keys"][0])
        assert jwt.decode(old_token, key.key, algorithms=["RS256"], audience=after.user_pool_client_id)["sub"]
    finally:
        server.stop()

    server, _ = start(tmp_path, use_endpoint, fresh=True)
    try:
        assert not tenant_exists("acme")
    finally:
        server.stop()


def test_a_consumer_resumes_where_it_was_after_a_restart(tmp_path, use_endpoint):
    delivered: list[str] = []

    def consumer(event, context):
        delivered.extend(r["dynamodb"]["Keys"]["PK"]["S"] for r in event["Records"])

    def pump_all(server: MotoServer) -> None:
        pump = Pump(
            server.url,
            settings().region,
            settings().table_name,
            consumers=[StreamConsumer(name="Counter", handler="counter")],
            queues=(),
            load=lambda _: consumer,
        )
        while pump.poll():
            pass

    def put(pk: str) -> None:
        item = {"PK": {"S": pk}, "SK": {"S": "X"}}
        boto3.client("dynamodb").put_item(TableName=settings().table_name, Item=item)

    server, _ = start(tmp_path, use_endpoint)
    put("before")
    pump_all(server)
    server.stop()

    server, _ = start(tmp_path, use_endpoint)
    try:
        put("after")
        pump_all(server)
    finally:
        server.stop()

    assert delivered == ["before", "after"]

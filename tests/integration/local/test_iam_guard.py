"""The local cloud refuses what a tenant's credentials may not do, as IAM would: another tenant's items and
index partitions, writes with a read role, and objects outside the tenant's prefix; other keys are untouched.
And inside a request scope, every data access path of the app (items, indexes, batches, transactions,
idempotency records, presigned URLs) uses the tenant's credentials."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError
from pynamodb.exceptions import PynamoDBException

from shared import credentials
from shared.attachments import storage
from shared.db.table import Item, transaction
from shared.settings import settings

READ, WRITE, UPLOAD, DOWNLOAD = "read", "write", "write-sign-upload", "read-sign-download"


@pytest.fixture
def table(cloud):
    """Given one item in tenant acme and one in tenant globex (written with the default credentials)."""
    dynamodb = cloud.client("dynamodb")
    for tenant in ("acme", "globex"):
        dynamodb.put_item(
            TableName=cloud.resources.table_name,
            Item={
                "PK": {"S": f"T#{tenant}#NOTE#1"},
                "SK": {"S": "NOTE"},
                "tenant_id": {"S": tenant},
                "entity": {"S": "test-note"},
                "GSI1PK": {"S": f"T#{tenant}#NOTES"},
                "GSI1SK": {"S": "1"},
            },
        )
    return cloud.resources.table_name


class Note(Item, discriminator="test-note"):
    pass


def scoped_client(cloud, tenant: str, profile: str, service: str):
    """A client with the credentials a request of ``tenant`` on a route of ``profile`` gets."""
    with credentials.scoped(tenant, profile) as scope:
        return scope.new_client(service, **({"config": storage._config()} if service == "s3" else {}))


def denied(error: pytest.ExceptionInfo[ClientError]) -> str:
    return error.value.response["Error"]["Code"]


def key(tenant: str) -> dict:
    return {"PK": {"S": f"T#{tenant}#NOTE#1"}, "SK": {"S": "NOTE"}}


def test_a_tenant_key_reads_its_own_items_and_never_another_tenants(cloud, table):
    dynamodb = scoped_client(cloud, "acme", READ, "dynamodb")

    assert dynamodb.get_item(TableName=table, Key=key("acme"))["Item"]["tenant_id"] == {"S": "acme"}
    with pytest.raises(ClientError) as error:
        dynamodb.get_item(TableName=table, Key=key("globex"))
    assert denied(error) == "AccessDeniedException"


def test_a_tenant_key_queries_only_its_own_index_partitions(cloud, table):
    dynamodb = scoped_client(cloud, "acme", READ, "dynamodb")

    def query(tenant: str) -> list:
        return dynamodb.query(
            TableName=table,
            IndexName="GSI1",
            KeyConditionExpression="#pk = :pk",
            ExpressionAttributeNames={"#pk": "GSI1PK"},
            ExpressionAttributeValues={":pk": {"S": f"T#{tenant}#NOTES"}},
        )["Items"]

    assert len(query("acme")) == 1
    with pytest.raises(ClientError) as error:
        query("globex")
    assert denied(error) == "AccessDeniedException"


def test_a_transaction_or_batch_touching_another_tenant_is_refused_whole(cloud, table):
    dynamodb = scoped_client(cloud, "acme", WRITE, "dynamodb")
    update = {"UpdateExpression": "SET updated_by = :u", "ExpressionAttributeValues": {":u": {"S": "me"}}}

    with pytest.raises(ClientError) as error:
        dynamodb.transact_write_items(
            TransactItems=[
                {"Update": {"TableName": table, "Key": key("acme"), **update}},
                {"Update": {"TableName": table, "Key": key("globex"), **update}},
            ]
        )
    assert denied(error) == "AccessDeniedException"
    with pytest.raises(ClientError) as error:
        dynamodb.batch_get_item(RequestItems={table: {"Keys": [key("acme"), key("globex")]}})
    assert denied(error) == "AccessDeniedException"
    assert "updated_by" not in cloud.client("dynamodb").get_item(TableName=table, Key=key("acme"))["Item"]


def test_a_read_role_cannot_write_even_its_own_tenant(cloud, table):
    dynamodb = scoped_client(cloud, "acme", READ, "dynamodb")

    with pytest.raises(ClientError) as error:
        dynamodb.delete_item(TableName=table, Key=key("acme"))

    assert denied(error) == "AccessDeniedException"


def test_default_credentials_are_unaffected(cloud, table):
    assert cloud.client("dynamodb").get_item(TableName=table, Key=key("globex"))["Item"]


def test_presigned_downloads_work_only_under_the_tenants_prefix(cloud):
    bucket = cloud.resources.bucket_name
    for tenant in ("acme", "globex"):
        cloud.client("s3").put_object(Bucket=bucket, Key=f"t/{tenant}/ticket/1/a", Body=b"hello")
    s3 = scoped_client(cloud, "acme", DOWNLOAD, "s3")

    def download(object_key: str) -> int:
        url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": object_key}, ExpiresIn=60)
        return requests.get(url, timeout=10).status_code

    assert download("t/acme/ticket/1/a") == 200
    assert download("t/globex/ticket/1/a") == 403


def test_presigned_uploads_are_refused_outside_the_tenants_prefix(cloud):
    bucket = cloud.resources.bucket_name
    s3 = scoped_client(cloud, "acme", UPLOAD, "s3")

    def upload(object_key: str) -> int:
        post = s3.generate_presigned_post(Bucket=bucket, Key=object_key, ExpiresIn=60)
        return requests.post(post["url"], data=post["fields"], files={"file": b"hi"}, timeout=10).status_code

    assert upload("t/acme/ticket/1/b") == 204
    assert upload("t/globex/ticket/1/b") == 403


def test_inside_a_scope_every_table_access_path_uses_the_tenants_credentials(cloud, table):
    with credentials.scoped("acme", WRITE):
        # Then its own items, index partitions and transactions pass
        assert Note.get("T#acme#NOTE#1", "NOTE").tenant_id == "acme"
        assert [n.PK for n in Note.gsi1.query("T#acme#NOTES")] == ["T#acme#NOTE#1"]
        _update_in_transaction("T#acme#NOTE#1")
        # And another tenant's are refused by the local cloud, not only by code
        for attempt in (
            lambda: Note.get("T#globex#NOTE#1", "NOTE"),
            lambda: list(Note.gsi1.query("T#globex#NOTES")),
            lambda: list(Note.batch_get([("T#globex#NOTE#1", "NOTE")])),
            lambda: _update_in_transaction("T#globex#NOTE#1"),
        ):
            with pytest.raises(PynamoDBException) as error:
                attempt()
            assert error.value.cause_response_code == "AccessDeniedException"
    # Outside the scope, the default credentials again
    assert Note.get("T#globex#NOTE#1", "NOTE").tenant_id == "globex"
    assert credentials.current() is None


def _update_in_transaction(pk: str) -> None:
    with transaction() as tx:
        tx.update(Note(PK=pk, SK="NOTE"), actions=[Note.updated_by.set("me")])


def test_scoped_presigned_urls_are_signed_with_the_tenants_key(cloud):
    with credentials.scoped("acme", DOWNLOAD) as scope:
        url, _expires = storage.presigned_get("t/acme/x", "x.txt", "text/plain")

    assert f"X-Amz-Credential={scope.access_key_id}" in url
    assert settings().bucket_name in url

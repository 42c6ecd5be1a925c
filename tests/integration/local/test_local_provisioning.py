"""Provisioning creates what infra/resources.py describes, and running it again changes nothing."""

from __future__ import annotations

from infra.local.provision import SENDER_ADDRESS, SENDER_DOMAIN, ensure_table, provision
from infra.resources import QUEUES, SYSTEM_INDEXES, TABLE_TTL_ATTRIBUTE, USER_POOL_GROUPS, table_definition


def test_provisioning_twice_finds_the_same_resources(cloud):
    again = provision(
        cloud.server.url, cloud.region, table_name=cloud.resources.table_name, bucket_name=cloud.resources.bucket_name
    )

    assert again == cloud.resources
    cognito = cloud.client("cognito-idp")
    assert len(cognito.list_user_pools(MaxResults=60)["UserPools"]) == 1
    assert len(cognito.list_user_pool_clients(UserPoolId=again.user_pool_id, MaxResults=60)["UserPoolClients"]) == 1


def test_the_table_streams_changes_and_expires_items(cloud):
    dynamodb = cloud.client("dynamodb")
    table = dynamodb.describe_table(TableName=cloud.resources.table_name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=cloud.resources.table_name)["TimeToLiveDescription"]

    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == ("ENABLED", TABLE_TTL_ATTRIBUTE)


def test_a_table_kept_from_an_older_version_gets_the_indexes_added_since(cloud):
    # Given a table as an older DeskOS created it, without the system indexes
    dynamodb = cloud.client("dynamodb")
    older = table_definition("deskos-older")
    older["GlobalSecondaryIndexes"] = [
        index for index in older["GlobalSecondaryIndexes"] if index["IndexName"] not in SYSTEM_INDEXES
    ]
    system_keys = {key for keys in SYSTEM_INDEXES.values() for key in keys}
    older["AttributeDefinitions"] = [a for a in older["AttributeDefinitions"] if a["AttributeName"] not in system_keys]
    dynamodb.create_table(**older)

    # When provisioning finds it
    ensure_table(dynamodb, "deskos-older")

    # Then it has every index of today's definition
    indexes = dynamodb.describe_table(TableName="deskos-older")["Table"]["GlobalSecondaryIndexes"]
    expected = table_definition("x")["GlobalSecondaryIndexes"]
    assert {index["IndexName"] for index in indexes} == {index["IndexName"] for index in expected}


def test_the_bucket_is_private_and_accepts_browser_uploads(cloud):
    s3 = cloud.client("s3")
    block = s3.get_public_access_block(Bucket=cloud.resources.bucket_name)["PublicAccessBlockConfiguration"]
    [rule] = s3.get_bucket_cors(Bucket=cloud.resources.bucket_name)["CORSRules"]

    assert all(block.values())
    assert "POST" in rule["AllowedMethods"]


def test_the_user_pool_carries_tenancy_and_password_sign_in(cloud):
    cognito = cloud.client("cognito-idp")
    pool = cognito.describe_user_pool(UserPoolId=cloud.resources.user_pool_id)["UserPool"]
    client = cognito.describe_user_pool_client(
        UserPoolId=cloud.resources.user_pool_id, ClientId=cloud.resources.user_pool_client_id
    )["UserPoolClient"]
    groups = cognito.list_groups(UserPoolId=cloud.resources.user_pool_id)["Groups"]

    custom = {a["Name"]: a["Mutable"] for a in pool["SchemaAttributes"] if a["Name"].startswith("custom:")}
    assert custom == {"custom:tenant_id": True, "custom:client_id": True}
    assert {g["GroupName"] for g in groups} == set(USER_POOL_GROUPS)
    assert {"ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH"} <= set(client["ExplicitAuthFlows"])
    assert "ClientSecret" not in client


def test_dead_letter_queues_and_the_sender_exist(cloud):
    queues = cloud.client("sqs").list_queues()["QueueUrls"]
    identities = cloud.client("ses").list_identities()["Identities"]

    assert {q.name for q in QUEUES} <= {url.rsplit("/", 1)[1] for url in queues}
    assert {SENDER_DOMAIN, SENDER_ADDRESS} <= set(identities)

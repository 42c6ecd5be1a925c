"""A moto server with a Cognito pool and the table, and the local API in front of it, once per module."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from unittest import mock

import boto3
import pytest
from moto.server import ThreadedMotoServer

from infra.local.api_server import LocalApi, start_api
from infra.resources import USER_POOL_CUSTOM_ATTRIBUTES, USER_POOL_GROUPS, table_definition
from shared.settings import settings

REGION = "eu-west-1"
TABLE = "deskos-local-api-tests"
PASSWORD = "Corr3ct-Horse-Battery!"
TENANT = "acme"


@dataclass(frozen=True)
class LocalCloud:
    api: LocalApi
    endpoint_url: str
    user_pool_id: str
    client_id: str
    other_client_id: str
    cognito: object
    tenant: str = TENANT

    def id_token(self, username: str, client_id: str | None = None) -> str:
        result = self.cognito.admin_initiate_auth(
            UserPoolId=self.user_pool_id,
            ClientId=client_id or self.client_id,
            AuthFlow="ADMIN_USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": username, "PASSWORD": PASSWORD},
        )
        return result["AuthenticationResult"]["IdToken"]


@pytest.fixture(scope="module")
def cloud() -> Iterator[LocalCloud]:
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint_url = f"http://{host}:{port}"
    handler_environment = {
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "DESKOS_TABLE": TABLE,
    }
    # patch.dict also undoes what start_api adds from chalice.json
    with mock.patch.dict(os.environ, handler_environment):
        settings.cache_clear()  # settings are read once per process; this module brings its own table
        cognito = boto3.client("cognito-idp", region_name=REGION, endpoint_url=endpoint_url)
        pool_id, client_id, other_client_id = _user_pool(cognito)
        _user(cognito, pool_id, "agent@acme.test", "staff")
        _user(cognito, pool_id, "portal@client.test", "portal", client_id="01JCLIENT0000000000000000")
        boto3.client("dynamodb", region_name=REGION, endpoint_url=endpoint_url).create_table(**table_definition(TABLE))
        api = start_api(
            host="127.0.0.1",
            port=0,
            endpoint_url=endpoint_url,
            region=REGION,
            user_pool_id=pool_id,
            client_id=client_id,
        )
        try:
            yield LocalCloud(api, endpoint_url, pool_id, client_id, other_client_id, cognito)
        finally:
            api.stop()
            moto.stop()
            settings.cache_clear()


def _user_pool(cognito) -> tuple[str, str, str]:
    pool_id = cognito.create_user_pool(
        PoolName="deskos-local-api-tests",
        Schema=[{"Name": a, "AttributeDataType": "String", "Mutable": True} for a in USER_POOL_CUSTOM_ATTRIBUTES],
    )["UserPool"]["Id"]
    for group in USER_POOL_GROUPS:
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    clients = [
        cognito.create_user_pool_client(
            UserPoolId=pool_id, ClientName=name, ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH"]
        )["UserPoolClient"]["ClientId"]
        for name in ("console", "another-app")
    ]
    return pool_id, clients[0], clients[1]


def _user(cognito, pool_id: str, email: str, group: str, *, client_id: str | None = None) -> None:
    attributes = {"email": email, "custom:tenant_id": TENANT}
    if client_id is not None:
        attributes["custom:client_id"] = client_id
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=email,
        UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
        MessageAction="SUPPRESS",
    )
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=PASSWORD, Permanent=True)
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)

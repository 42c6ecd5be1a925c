"""Tenant-scoped credentials: one STS session per (tenant, role) per container, renewed before presigned URLs
could outlive it, tagged with the tenant, and current only where a request made it so."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from shared import credentials


class FakeSts:
    def __init__(self, valid_for: timedelta = timedelta(hours=1)) -> None:
        self.calls: list[dict] = []
        self.valid_for = valid_for

    def assume_role(self, **request) -> dict:
        self.calls.append(request)
        return {
            "Credentials": {
                "AccessKeyId": f"ASIA{len(self.calls)}",
                "SecretAccessKey": "secret",
                "SessionToken": "token",
                "Expiration": datetime.now(UTC) + self.valid_for,
            }
        }


@pytest.fixture
def sts(monkeypatch: pytest.MonkeyPatch):
    credentials.forget()
    fake = FakeSts()
    monkeypatch.setattr(credentials, "_sts", lambda: fake)
    yield fake
    monkeypatch.undo()
    credentials.forget()


def test_a_tenants_credentials_are_assumed_once_per_role_and_tagged_with_it(sts) -> None:
    first = credentials.enter("acme", "read")
    again = credentials.enter("acme", "read")
    other_role = credentials.enter("acme", "write")
    other_tenant = credentials.enter("globex", "read")

    assert first is again
    assert len({first.access_key_id, other_role.access_key_id, other_tenant.access_key_id}) == 3
    assert [c["Tags"] for c in sts.calls] == [[{"Key": "tenant_id", "Value": t}] for t in ("acme", "acme", "globex")]
    assert sts.calls[0]["RoleArn"].endswith(":role/deskos-tenant-read")


def test_credentials_closer_than_twenty_minutes_to_expiry_are_renewed(sts) -> None:
    sts.valid_for = timedelta(minutes=19)  # a presigned URL signed now could outlive them
    first = credentials.enter("acme", "read")

    renewed = credentials.enter("acme", "read")

    assert renewed.access_key_id != first.access_key_id and len(sts.calls) == 2


def test_the_role_comes_from_the_functions_environment(sts, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DESKOS_TENANT_ROLE_WRITE_SIGN_UPLOAD", "arn:aws:iam::111122223333:role/Uploads")

    credentials.enter("acme", credentials.profile(True, ["sign-upload"]))

    assert sts.calls[0]["RoleArn"] == "arn:aws:iam::111122223333:role/Uploads"


def test_a_malformed_tenant_id_never_becomes_a_session_tag(sts) -> None:
    with pytest.raises(ValueError):
        credentials.enter("acme*", "read")  # a wildcard would widen the policy's key patterns

    assert sts.calls == []


def test_the_scope_is_current_only_until_the_request_leaves_and_only_in_its_thread(sts) -> None:
    scope = credentials.enter("acme", "read")
    elsewhere: list[object] = []
    thread = threading.Thread(target=lambda: elsewhere.append(credentials.current()))
    thread.start()
    thread.join()

    assert credentials.current() is scope and elsewhere == [None]
    credentials.leave()
    assert credentials.current() is None


def test_outside_a_scope_callers_get_their_default_client(sts) -> None:
    default = object()

    assert credentials.client("s3", lambda: default) is default
    with credentials.scoped("acme", "read") as scope:
        scoped = credentials.client("dynamodb", lambda: default, endpoint_url="http://127.0.0.1:9")
        assert scoped is not default and scoped is credentials.client("dynamodb", lambda: default)
        assert scoped._request_signer._credentials.access_key == scope.access_key_id

"""Settings in the cloud: nothing required has a default, so a function deployed without its settings fails at
its first invocation naming what is missing; the cursor secret comes from Secrets Manager by ARN, once; the address
emailed links point at comes from the environment or else from the SSM parameter it names, once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from functions.api.me import handler as api_handler
from functions.events.audit_trail import handler as stream_handler
from functions.events.survey_invitations import handler as batch_handler
from functions.schedules.sla_sweep import handler as schedule_handler
from infra.local.lambda_context import LambdaContext
from shared import cursors, links
from shared import settings as settings_module
from shared.settings import (
    BUCKET,
    CURSOR_SECRET,
    CURSOR_SECRET_ARN,
    PUBLIC_URL,
    PUBLIC_URL_PARAMETER,
    TABLE,
    MissingSettings,
    inbound_per_minute,
    public_url,
    ses_send_rate,
    settings,
)


@pytest.fixture
def fresh_settings() -> Iterator[None]:
    settings.cache_clear()
    settings_module._secret_at.cache_clear()
    yield
    settings.cache_clear()
    settings_module._secret_at.cache_clear()


@pytest.mark.parametrize("handler", [api_handler, stream_handler, batch_handler, schedule_handler])
def test_a_function_without_its_settings_fails_at_its_first_invocation_naming_them(
    handler, fresh_settings, monkeypatch
) -> None:
    # Given a function deployed without the table, the bucket and the cursor secret
    for variable in (TABLE, BUCKET, CURSOR_SECRET, CURSOR_SECRET_ARN):
        monkeypatch.delenv(variable, raising=False)

    # Then it fails before doing anything, and says which settings it lacks
    with pytest.raises(MissingSettings) as failure:
        handler({"Records": []}, LambdaContext("misconfigured"))
    message = str(failure.value)
    assert all(variable in message for variable in (TABLE, BUCKET, CURSOR_SECRET_ARN)), message


def test_a_malformed_number_is_named_too(fresh_settings, monkeypatch) -> None:
    monkeypatch.setenv("DESKOS_REOPEN_WINDOW_DAYS", "a week")
    with pytest.raises(MissingSettings, match="DESKOS_REOPEN_WINDOW_DAYS must be a whole number, not 'a week'"):
        settings()


@pytest.mark.parametrize(
    ("variable", "read", "meaning"),
    [
        ("DESKOS_SES_SEND_RATE", ses_send_rate, "a number of emails a second"),
        ("DESKOS_INBOUND_PER_MINUTE", inbound_per_minute, "a whole number"),
    ],
)
def test_a_malformed_setting_read_on_use_is_named(variable, read, meaning, monkeypatch) -> None:
    monkeypatch.setenv(variable, "lots")
    with pytest.raises(MissingSettings, match=f"{variable} must be {meaning}, not 'lots'"):
        read()


def test_the_cursor_secret_is_read_by_arn_from_secrets_manager_once_per_process(
    module_cloud, fresh_settings, monkeypatch
) -> None:
    # Given a deployed function's environment: the secret's ARN, not its value
    secrets = module_cloud.client("secretsmanager")
    arn = secrets.create_secret(Name="deskos-cursor-test", SecretString="k" * 64)["ARN"]
    monkeypatch.delenv(CURSOR_SECRET)
    monkeypatch.setenv(CURSOR_SECRET_ARN, arn)

    # Then cursors are signed with the stored key
    assert settings().cursor_secret == b"k" * 64
    last_key = {"pk": "T#t1#TICKET#1", "sk": "A"}
    cursor = cursors.encode("t1", "list", last_key)
    assert cursors.decode("t1", "list", cursor) == last_key
    monkeypatch.setenv(CURSOR_SECRET_ARN, secrets.create_secret(Name="other", SecretString="o" * 64)["ARN"])
    settings.cache_clear()
    assert cursors.encode("t1", "list", last_key) != cursor  # the key is the stored one, not a default
    monkeypatch.setenv(CURSOR_SECRET_ARN, arn)

    # And the key was fetched once: a changed value is seen by the next process, not in the middle of this one
    secrets.put_secret_value(SecretId=arn, SecretString="changed")
    settings.cache_clear()
    assert settings().cursor_secret == b"k" * 64
    assert settings().link_secret == b"k" * 64  # emailed links fall back to the same key (domain-separated)


def test_links_point_at_the_address_in_the_environment_else_the_parameter_it_names_read_once(
    module_cloud, monkeypatch
) -> None:
    # Given an API function in the cloud: told the name of the parameter that holds the address, not the address
    parameters = module_cloud.client("ssm")
    name = "/DeskOS/public-url"
    parameters.put_parameter(Name=name, Value="https://d111.cloudfront.net/", Type="String", Overwrite=True)
    monkeypatch.delenv(PUBLIC_URL, raising=False)
    monkeypatch.setenv(PUBLIC_URL_PARAMETER, name)
    settings_module._parameter_at.cache_clear()

    # Then its emailed links point at the parameter's address
    assert links.page_url("survey", "t0k") == "https://d111.cloudfront.net/app/survey?token=t0k"
    # read once per process: a changed value is the next container's
    parameters.put_parameter(Name=name, Value="https://elsewhere.example", Type="String", Overwrite=True)
    assert public_url() == "https://d111.cloudfront.net"
    settings_module._parameter_at.cache_clear()
    assert public_url() == "https://elsewhere.example"

    # An address in the environment wins (the local cloud's, which knows its own)
    monkeypatch.setenv(PUBLIC_URL, "http://127.0.0.1:8123/")
    assert public_url() == "http://127.0.0.1:8123"
    # and with neither, links point at the local cloud's default address
    monkeypatch.delenv(PUBLIC_URL)
    monkeypatch.delenv(PUBLIC_URL_PARAMETER)
    assert public_url() == "http://127.0.0.1:8000"

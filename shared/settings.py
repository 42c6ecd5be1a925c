"""Process settings, read from the environment once and on first use (never at import time).

Required settings have no default: a function deployed without one fails on first use with an error naming
what is missing, instead of, say, signing cursors with a public string. The local cloud and the tests set
theirs explicitly. A deployed function is given the cursor secret's ARN, never the secret itself (function
configuration is readable by anyone who may describe the function); it reads the secret on first use.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache

TABLE = "DESKOS_TABLE"
BUCKET = "DESKOS_BUCKET"
CURSOR_SECRET = "DESKOS_CURSOR_SECRET"  # the key itself: the local cloud and the tests
CURSOR_SECRET_ARN = "DESKOS_CURSOR_SECRET_ARN"  # where to read it (Secrets Manager): deployed functions
LINK_SECRET = "DESKOS_LINK_SECRET"
PUBLIC_URL = "DESKOS_PUBLIC_URL"  # the address itself: the local cloud, and the functions CDK can tell it
PUBLIC_URL_PARAMETER = "DESKOS_PUBLIC_URL_PARAMETER"  # the SSM parameter holding it: API functions that send links
LOCAL_PUBLIC_URL = "http://127.0.0.1:8000"


class MissingSettings(RuntimeError):
    """The environment lacks required settings or holds malformed ones (the message names each)."""


@dataclass(frozen=True)
class Settings:
    table_name: str
    bucket_name: str
    region: str
    idempotency_ttl_seconds: int
    reopen_window_days: int
    mail_sender: str
    survey_link_days: int
    session_check_seconds: int  # how stale a container's view of revoked sessions may be (shared.sessions)
    cursor_secret_source: tuple[str, str]  # (CURSOR_SECRET or CURSOR_SECRET_ARN, its value)
    link_secret_value: str | None

    @property
    def cursor_secret(self) -> bytes:
        """The HMAC key of cursors; from Secrets Manager on first use when the environment gives its ARN."""
        variable, value = self.cursor_secret_source
        return _secret_at(value) if variable == CURSOR_SECRET_ARN else value.encode()

    @property
    def link_secret(self) -> bytes:
        """Signs emailed links (``shared.links``); the cursor secret unless a key of its own is set (uses are
        domain-separated)."""
        return self.link_secret_value.encode() if self.link_secret_value else self.cursor_secret


def region() -> str:
    """Uncached: PynamoDB asks for it while classes are created, before tests or the launcher set the env."""
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "eu-west-1"


def public_url() -> str:
    """Where links in emails point: ``DESKOS_PUBLIC_URL`` when set (uncached: the local cloud learns its API port
    only once it listens); else the SSM parameter ``DESKOS_PUBLIC_URL_PARAMETER`` names, read once per process (an
    API function in AWS: the web app's distribution is created after the API, so its address cannot be in the
    function's environment); else the local cloud's default address."""
    explicit = os.environ.get(PUBLIC_URL)
    if explicit:
        return explicit.rstrip("/")
    parameter = os.environ.get(PUBLIC_URL_PARAMETER)
    return (_parameter_at(parameter) if parameter else LOCAL_PUBLIC_URL).rstrip("/")


LOCAL_ACCOUNT_ID = "123456789012"  # the local cloud's (moto's) account


def tenant_role_name(profile: str) -> str:
    """The local cloud's name of the tenant-access role of an access profile (the cloud's come from CDK)."""
    return f"deskos-tenant-{profile}"


def tenant_role_variable(profile: str) -> str:
    return "DESKOS_TENANT_ROLE_" + profile.upper().replace("-", "_")


def tenant_role_arn(profile: str) -> str:
    """The tenant-access role of an access profile (``shared.credentials.profile``) from the environment (a
    deployed function is given its own profile's), else the local cloud's."""
    local = f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{tenant_role_name(profile)}"
    return os.environ.get(tenant_role_variable(profile)) or local


def user_pool_id() -> str:
    """The Cognito user pool that administered users live in (only user administration needs it). Uncached:
    the local cloud learns it once it has provisioned the pool."""
    pool = os.environ.get("DESKOS_USER_POOL_ID")
    if not pool:
        raise MissingSettings("DESKOS_USER_POOL_ID is not set: the function administers users and needs its pool")
    return pool


def ses_configuration_set() -> str | None:
    """The SES configuration set that publishes delivery events (CDK gives it to the senders MAIL_EVENTS names)."""
    return os.environ.get("DESKOS_SES_CONFIGURATION_SET") or None


def ses_send_rate() -> float:
    """Campaign emails a second (``DESKOS_SES_SEND_RATE``: the account's SES quota, or less; default SES's usual
    starting quota). Uncached, like those below: tests and the local cloud set them before use."""
    text = os.environ.get("DESKOS_SES_SEND_RATE", "14")
    try:
        rate = float(text)
    except ValueError:
        raise MissingSettings(f"DESKOS_SES_SEND_RATE must be a number of emails a second, not {text!r}") from None
    return max(rate, 0.1)


def inbound_domain() -> str:
    """Tenants receive mail at ``support@<tenant>.<this>`` (``DESKOS_INBOUND_DOMAIN``)."""
    return (os.environ.get("DESKOS_INBOUND_DOMAIN") or "inbound.deskos.local").lower().strip(".")


def inbound_per_minute() -> int:
    """More messages a minute than this from one sender are a flood (``DESKOS_INBOUND_PER_MINUTE``)."""
    text = os.environ.get("DESKOS_INBOUND_PER_MINUTE") or "10"
    if not text.isdigit():
        raise MissingSettings(f"DESKOS_INBOUND_PER_MINUTE must be a whole number, not {text!r}")
    return int(text)


@cache
def settings() -> Settings:
    """Raises ``MissingSettings`` naming every required variable that is missing and every malformed one."""
    env, problems = os.environ, []

    def required(name: str, meaning: str) -> str:
        if not env.get(name):
            problems.append(f"{name} ({meaning}) is not set")
        return env.get(name, "")

    def number(name: str, default: int) -> int:
        text = env.get(name, str(default))
        if not text.isdigit():
            problems.append(f"{name} must be a whole number, not {text!r}")
            return default
        return int(text)

    secret = next(((v, env[v]) for v in (CURSOR_SECRET_ARN, CURSOR_SECRET) if env.get(v)), None)
    if secret is None:
        problems.append(f"{CURSOR_SECRET_ARN} (the cursor-signing secret's ARN; locally {CURSOR_SECRET}) is not set")
    built = Settings(
        table_name=required(TABLE, "the DynamoDB table's name"),
        bucket_name=required(BUCKET, "the uploads bucket's name"),
        region=region(),
        idempotency_ttl_seconds=number("DESKOS_IDEMPOTENCY_TTL", 86400),
        reopen_window_days=number("DESKOS_REOPEN_WINDOW_DAYS", 7),
        mail_sender=env.get("DESKOS_MAIL_SENDER", "no-reply@deskos.local"),
        survey_link_days=number("DESKOS_SURVEY_LINK_DAYS", 30),
        session_check_seconds=number("DESKOS_SESSION_CHECK_SECONDS", 60),
        cursor_secret_source=secret or ("", ""),
        link_secret_value=env.get(LINK_SECRET) or None,
    )
    if problems:
        raise MissingSettings("DeskOS cannot start: " + "; ".join(problems) + ".")
    return built


def require_settings() -> None:
    """Every handler's first call: a function deployed without its settings fails its first invocation with
    ``MissingSettings`` naming them, not somewhere later (and after the first call this costs nothing)."""
    settings()


@cache
def _secret_at(arn: str) -> bytes:
    """One Secrets Manager round trip per process (the figure is in bench/README.md)."""
    from shared import aws  # imported here: shared.aws reads settings

    return aws.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"].encode()


@cache
def _parameter_at(name: str) -> str:
    """One SSM round trip per process for the public address (it changes only with the distribution)."""
    from shared import aws  # imported here: shared.aws reads settings

    return aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]

"""The identity provider's side of a user: the Cognito user (username = email), its tenant and client
attributes, its role's group, whether it may sign in.

These calls use the function's own role, which infra grants the Cognito admin actions on the pool only for
the routes that declare a ``cognito`` use (``Api.route(cognito=...)``); the tenant's data is never reached
through them. A user the directory knows but Cognito does not (made by hand, or deleted in the console)
has nothing to disable or regroup: that is logged and skipped, the directory stays the truth.
"""

from __future__ import annotations

import logging
import secrets
import string
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

from shared import aws
from shared.caller import Role
from shared.errors import Conflict, Unavailable, Unprocessable
from shared.settings import user_pool_id

log = logging.getLogger(__name__)
BUSY = frozenset({"TooManyRequestsException", "LimitExceededException", "InternalErrorException"})
TEMPORARY_PASSWORD_LENGTH = 20


@cache
def _cognito() -> Any:
    return aws.client("cognito-idp")


aws.on_forget(_cognito.cache_clear)


@contextmanager
def _answers() -> Iterator[None]:
    """Cognito's refusals as domain errors: a busy service is a retryable 503, the rest are bugs."""
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code == "UsernameExistsException":
            raise Conflict("A user with this email already exists.") from None
        if code == "InvalidPasswordException":
            raise Unprocessable.field("password", error.response["Error"].get("Message", "Too weak.")) from None
        if code == "InvalidParameterException":  # e.g. an address Cognito does not take for an email
            refused = error.response["Error"].get("Message")
            raise Unprocessable(f"The identity provider refused the user: {refused}") from None
        if code in BUSY:
            raise Unavailable("The identity provider is busy; retry shortly.", retry_after=1) from None
        raise


def temporary_password() -> str:
    """Random, and of every character class a pool's password policy may ask for."""
    classes = (string.ascii_lowercase, string.ascii_uppercase, string.digits, "!#%+-=?@^_")
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice("".join(classes)) for _ in range(TEMPORARY_PASSWORD_LENGTH - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def create_user(*, email: str, name: str, tenant_id: str, role: Role, client_id: str | None, password: str) -> str:
    """A Cognito user of the tenant in the role's group, with a temporary ``password`` (the user chooses a new
    one at first sign-in). Cognito sends no message: the caller sends its own. Returns the user's id (``sub``)."""
    attributes = {"email": email, "email_verified": "true", "name": name, "custom:tenant_id": tenant_id}
    if client_id:
        attributes["custom:client_id"] = client_id
    with _answers():
        created = _cognito().admin_create_user(
            UserPoolId=user_pool_id(),
            Username=email,
            UserAttributes=[{"Name": k, "Value": v} for k, v in attributes.items()],
            TemporaryPassword=password,
            MessageAction="SUPPRESS",
        )
        try:
            _cognito().admin_add_user_to_group(UserPoolId=user_pool_id(), Username=email, GroupName=str(role))
        except Exception:
            delete_user(email)
            raise
    return next(a["Value"] for a in created["User"]["Attributes"] if a["Name"] == "sub")


def set_permanent_password(username: str, password: str) -> None:
    with _answers():
        _cognito().admin_set_user_password(
            UserPoolId=user_pool_id(), Username=username, Password=password, Permanent=True
        )


def delete_user(username: str) -> None:
    with _answers(), _unless_unknown(username):
        _cognito().admin_delete_user(UserPoolId=user_pool_id(), Username=username)


def move_to_group(username: str, old: Role, new: Role) -> None:
    with _answers(), _unless_unknown(username):
        _cognito().admin_add_user_to_group(UserPoolId=user_pool_id(), Username=username, GroupName=str(new))
        _cognito().admin_remove_user_from_group(UserPoolId=user_pool_id(), Username=username, GroupName=str(old))


def disable(username: str) -> None:
    """No more sign-ins, and no more tokens from its refresh tokens; tokens already issued are refused by the
    API (``shared.sessions``)."""
    with _answers(), _unless_unknown(username):
        _cognito().admin_disable_user(UserPoolId=user_pool_id(), Username=username)
        _cognito().admin_user_global_sign_out(UserPoolId=user_pool_id(), Username=username)


def enable(username: str) -> None:
    with _answers(), _unless_unknown(username):
        _cognito().admin_enable_user(UserPoolId=user_pool_id(), Username=username)


@contextmanager
def _unless_unknown(username: str) -> Iterator[None]:
    from botocore.exceptions import ClientError

    try:
        yield
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "UserNotFoundException":
            raise
        log.warning("Cognito has no user %s; the directory's change stands", username)

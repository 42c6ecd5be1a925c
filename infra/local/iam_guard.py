"""Tenant-scoped credentials, enforced in front of the local DynamoDB and S3 as IAM enforces them in AWS.

Moto issues credentials for STS AssumeRole but drops the session tags and evaluates no IAM conditions, so
a handler that used another tenant's key would go unnoticed locally. This WSGI middleware learns, from each
AssumeRole request carrying a ``tenant_id`` session tag, which access key belongs to which tenant and role
(the key from moto's answer; the role's inline policies from moto's IAM, as ``infra/access_roles.py``
defined and ``provision`` put them). Every later DynamoDB or S3 request signed with such a key (header,
presigned URL query or presigned POST form) is evaluated against those policies, ``${aws:PrincipalTag/
tenant_id}`` replaced by the tag: the action, the resource (table, index, object ARN) and the
``ForAllValues:StringLike`` ``dynamodb:LeadingKeys`` condition over every partition key the request touches
(items, queries on the table or an index, batches, transactions). What no statement allows is refused with
DynamoDB's ``AccessDeniedException`` (400) or S3's ``AccessDenied`` (403). Keys it never saw issued with a
tag (the process's own credentials) pass untouched.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any
from urllib.parse import parse_qs, unquote
from xml.etree import ElementTree

from infra.local.s3_post_policy import FORM, PolicyViolation, error_document
from infra.resources import SYSTEM_INDEXES, TABLE_INDEXES, TABLE_PARTITION_KEY
from shared.credentials import TAG

TENANT_VARIABLE = "${aws:PrincipalTag/" + TAG + "}"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/([^/]+)/([^/]+)/")
_ACCESS_KEY = re.compile(r"<AccessKeyId>([^<]+)</AccessKeyId>")
_EQUALS = re.compile(r"(#?[\w.]+)\s*=\s*(:\w+)")
# What a transaction's or a batch's parts are authorised as, item by item.
_TRANSACT_ACTIONS = {
    "Get": "GetItem",
    "Put": "PutItem",
    "Update": "UpdateItem",
    "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}

Check = tuple[str, str, tuple[str, ...]]  # (action, resource ARN, leading keys)


@dataclass(frozen=True)
class Principal:
    """A tenant's session: its tag and its role's policy statements, the tag already substituted."""

    tenant_id: str
    role_arn: str
    statements: tuple[dict[str, Any], ...]

    @property
    def account(self) -> str:
        return self.role_arn.split(":")[4]

    def allows(self, action: str, resource: str, leading_keys: tuple[str, ...] = ()) -> bool:
        return any(_grants(s, action, resource, leading_keys) for s in self.statements if s.get("Effect") == "Allow")


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _grants(statement: dict[str, Any], action: str, resource: str, leading_keys: tuple[str, ...]) -> bool:
    if not any(fnmatchcase(action.lower(), a.lower()) for a in _listed(statement.get("Action", []))):
        return False
    if not any(fnmatchcase(resource, r) for r in _listed(statement.get("Resource", []))):
        return False
    for operator, keys in statement.get("Condition", {}).items():
        for key, patterns in keys.items():
            if (operator, key) != ("ForAllValues:StringLike", "dynamodb:LeadingKeys"):
                return False  # a condition this guard cannot evaluate does not hold
            if not all(any(fnmatchcase(k, p) for p in _listed(patterns)) for k in leading_keys):
                return False
    return True


def _substituted(document: str, tenant_id: str) -> tuple[dict[str, Any], ...]:
    policy = json.loads(document.replace(TENANT_VARIABLE, tenant_id))
    return tuple(_listed(policy.get("Statement", [])))


def role_policies(role_arn: str) -> list[str]:
    """The inline policy documents of a role in the local cloud's IAM (none if there is no such role)."""
    from moto.iam.models import iam_backends

    account = role_arn.split(":")[4]
    for role in iam_backends[account]["aws"].get_roles():
        if role.arn == role_arn:
            return list(role.policies.values())
    return []


class TenantGuard:
    """WSGI middleware (under the server's one-at-a-time lock, so its map needs no lock of its own)."""

    def __init__(
        self, app: Callable[..., Iterable[bytes]], policies: Callable[[str], list[str]] = role_policies
    ) -> None:
        self.app = app
        self.policies = policies
        self.principals: dict[str, Principal] = {}  # access key id -> the tenant session it belongs to

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        access_key, region, service = _credential(environ)
        if service == "sts":
            return self._assume_role(environ, start_response)
        principal = self.principals.get(access_key or "")
        if principal is None or service not in ("dynamodb", "s3"):
            return self.app(environ, start_response)
        if service == "dynamodb":
            body = _body(environ)
            target = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
            checks = list(dynamodb_checks(target, json.loads(body or b"{}"), region, principal.account))
        else:
            checks = list(s3_checks(environ))
        denied = next((c for c in checks if not principal.allows(*c)), None)
        if denied is None and checks:
            return self.app(environ, start_response)
        action, resource, _keys = denied or (f"{service}:*", "*", ())
        message = (
            f"User: {principal.role_arn}/{principal.tenant_id} is not authorized to perform: {action} on resource: "
            f"{resource} because no identity-based policy allows the {action} action"
        )
        if service == "dynamodb":
            document = json.dumps(
                {"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException", "message": message}
            ).encode()
            start_response("400 Bad Request", [("Content-Type", "application/x-amz-json-1.0"), _length(document)])
        else:
            document = error_document(PolicyViolation(403, "AccessDenied", message))
            start_response("403 Forbidden", [("Content-Type", "application/xml"), _length(document)])
        return [document]

    def _assume_role(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        params = {k: v[-1] for k, v in parse_qs(_body(environ).decode(), keep_blank_values=True).items()}
        params.update({k: v[-1] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()})
        tags = {
            params[f"Tags.member.{n}.Key"]: params.get(f"Tags.member.{n}.Value", "")
            for n in range(1, 51)
            if f"Tags.member.{n}.Key" in params
        }
        if params.get("Action") != "AssumeRole" or TAG not in tags:
            return self.app(environ, start_response)
        started: list[tuple[str, list[tuple[str, str]]]] = []
        response = self.app(environ, lambda status, headers, *_: started.append((status, headers)))
        try:
            body = b"".join(response)
        finally:
            getattr(response, "close", lambda: None)()
        status, headers = started[-1]
        issued = _ACCESS_KEY.search(body.decode())
        if status.startswith("2") and issued:
            role_arn = params.get("RoleArn", "")
            statements = tuple(s for d in self.policies(role_arn) for s in _substituted(d, tags[TAG]))
            self.principals[issued.group(1)] = Principal(tags[TAG], role_arn, statements)
        start_response(status, headers)
        return [body]


def _length(document: bytes) -> tuple[str, str]:
    return ("Content-Length", str(len(document)))


def _body(environ: dict[str, Any]) -> bytes:
    body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _credential(environ: dict[str, Any]) -> tuple[str | None, str, str]:
    """(access key id, region, service) of whoever signed the request: header, presigned query or POST form."""
    form = environ.get(FORM) or {}
    query = parse_qs(environ.get("QUERY_STRING", ""))
    for source in (
        environ.get("HTTP_AUTHORIZATION", ""),
        "Credential=" + query.get("X-Amz-Credential", [""])[-1],
        "Credential=" + form.get("x-amz-credential", ""),
    ):
        found = _CREDENTIAL.search(source)
        if found:
            return found.group(1), found.group(2), found.group(3)
    return None, "", ""


# ---- DynamoDB: what a request does, to which table or index, with which partition keys ------------------


def dynamodb_checks(operation: str, request: dict[str, Any], region: str, account: str) -> Iterator[Check]:
    def arn(table: str, index: str | None = None) -> str:
        return f"arn:aws:dynamodb:{region}:{account}:table/{table}" + (f"/index/{index}" if index else "")

    def pk(item: dict[str, Any], attribute: str = TABLE_PARTITION_KEY) -> tuple[str, ...]:
        value = (item or {}).get(attribute) or {}
        return tuple(str(v) for v in value.values())

    if operation in ("GetItem", "UpdateItem", "DeleteItem"):
        yield f"dynamodb:{operation}", arn(request["TableName"]), pk(request.get("Key", {}))
    elif operation == "PutItem":
        yield "dynamodb:PutItem", arn(request["TableName"]), pk(request.get("Item", {}))
    elif operation == "Query":
        index = request.get("IndexName")
        indexes = {**TABLE_INDEXES, **SYSTEM_INDEXES}
        attribute = indexes[index][0] if index in indexes else TABLE_PARTITION_KEY
        yield "dynamodb:Query", arn(request["TableName"], index), _query_partition(request, attribute)
    elif operation == "BatchGetItem":
        for table, spec in request.get("RequestItems", {}).items():
            yield "dynamodb:BatchGetItem", arn(table), tuple(k for key in spec.get("Keys", []) for k in pk(key))
    elif operation == "BatchWriteItem":
        for table, writes in request.get("RequestItems", {}).items():
            keys = tuple(
                k
                for write in writes
                for k in pk(write.get("PutRequest", {}).get("Item") or write.get("DeleteRequest", {}).get("Key"))
            )
            yield "dynamodb:BatchWriteItem", arn(table), keys
    elif operation in ("TransactGetItems", "TransactWriteItems"):
        for part in request.get("TransactItems", []):
            for kind, spec in part.items():
                yield f"dynamodb:{_TRANSACT_ACTIONS[kind]}", arn(spec["TableName"]), pk(spec.get("Key") or spec["Item"])
    else:  # Scan, DescribeTable, …: nothing a tenant role allows without a leading key
        yield f"dynamodb:{operation}", arn(request.get("TableName", "*")), ()


def _query_partition(request: dict[str, Any], attribute: str) -> tuple[str, ...]:
    names = request.get("ExpressionAttributeNames", {})
    values = request.get("ExpressionAttributeValues", {})
    for name, placeholder in _EQUALS.findall(request.get("KeyConditionExpression", "")):
        if names.get(name, name) == attribute:
            return tuple(str(v) for v in values.get(placeholder, {}).values())
    legacy = request.get("KeyConditions", {}).get(attribute, {}).get("AttributeValueList", [])
    return tuple(str(v) for value in legacy for v in value.values())


# ---- S3: which object actions a request performs, on which keys ------------------------------------------


def s3_checks(environ: dict[str, Any]) -> Iterator[Check]:
    method = environ.get("REQUEST_METHOD", "GET")
    bucket, _, key = unquote(environ.get("PATH_INFO", "/")).lstrip("/").partition("/")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    form = environ.get(FORM)

    def obj(name: str) -> str:
        return f"arn:aws:s3:::{bucket}/{name}"

    if method == "POST" and form is not None:  # a browser upload with a presigned POST
        yield "s3:PutObject", obj(form.get("key", "")), ()
        if "tagging" in form:
            yield "s3:PutObjectTagging", obj(form.get("key", "")), ()
    elif method == "POST" and "delete" in query:
        root = ElementTree.fromstring(_body(environ))
        for element in root.iter():
            if element.tag.rpartition("}")[2] == "Key" and element.text:
                yield "s3:DeleteObject", obj(element.text), ()
    elif not key:
        yield f"s3:{method}Bucket", f"arn:aws:s3:::{bucket}", ()
    else:
        tagging = "tagging" in query
        if method in ("GET", "HEAD"):
            yield ("s3:GetObjectTagging" if tagging else "s3:GetObject"), obj(key), ()
        elif method == "PUT":
            yield ("s3:PutObjectTagging" if tagging else "s3:PutObject"), obj(key), ()
            source = environ.get("HTTP_X_AMZ_COPY_SOURCE")
            if source:
                yield "s3:GetObject", "arn:aws:s3:::" + unquote(source).lstrip("/").split("?")[0], ()
        elif method == "DELETE":
            yield ("s3:DeleteObjectTagging" if tagging else "s3:DeleteObject"), obj(key), ()
        else:
            yield f"s3:{method}Object", obj(key), ()

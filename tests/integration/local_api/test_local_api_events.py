"""What the local API hands a handler and what it makes of the answer: API Gateway's REST proxy shapes."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from chalice.local import LambdaEventConverter, RouteMatcher

from functions.api.catalog import Route
from infra.local.api_server import api_gateway_event, chalice_response, path_parameters

CANONICAL = json.loads((Path(__file__).parents[2] / "events" / "api_gateway_rest.json").read_text())
CLOSE = Route("POST", "/support/tickets/{ticket_id}/close", "functions.api.tickets", "CloseTicket", ("staff",), True)


def forwarded(path: str = "/support/tickets/01J/close", body: bytes | None = None) -> dict:
    """The event a handler gets: Chalice local's event for the request, completed by the local API."""
    converter = LambdaEventConverter(RouteMatcher([CLOSE.path]), binary_types=[])
    chalice_event = converter.create_lambda_event("POST", path, {"Host": "127.0.0.1:8000"}, body)
    return api_gateway_event(chalice_event, CLOSE, stage="local", request_id="r")


def test_the_event_has_every_field_of_a_rest_proxy_event():
    event = forwarded("/support/tickets/01J/close?reason=done")

    assert event.keys() == CANONICAL.keys()
    assert event["resource"] == event["requestContext"]["resourcePath"] == CLOSE.path
    assert event["path"] == "/support/tickets/01J/close"
    assert event["requestContext"]["path"] == "/local/support/tickets/01J/close"
    assert event["httpMethod"] == event["requestContext"]["httpMethod"] == "POST"
    assert event["pathParameters"] == {"ticket_id": "01J"}
    assert event["queryStringParameters"] == {"reason": "done"}
    assert event["multiValueHeaders"]["host"] == ["127.0.0.1:8000"]
    assert event["requestContext"]["requestId"] == "r"


def test_a_trailing_slash_is_ignored_as_api_gateway_does():
    event = forwarded("/support/tickets/01J/close/")

    assert event["path"] == "/support/tickets/01J/close"


def test_a_text_body_arrives_as_a_string_and_other_bytes_as_base64():
    text = forwarded(body='{"a": "é"}'.encode())
    binary = forwarded(body=b"\xff\xfe")
    empty = forwarded()

    assert (text["body"], text["isBase64Encoded"]) == ('{"a": "é"}', False)
    assert (base64.b64decode(binary["body"]), binary["isBase64Encoded"]) == (b"\xff\xfe", True)
    assert (empty["body"], empty["isBase64Encoded"]) == (None, False)


def test_path_parameters_are_read_from_the_route_template():
    assert path_parameters("/crm/clients/{client_id}", "/crm/clients/01J") == {"client_id": "01J"}
    assert path_parameters("/me", "/me") is None
    # decoded, as API Gateway hands them to the function (the event's path keeps the encoding)
    assert path_parameters("/support/tickets/by-number/{number}", "/support/tickets/by-number/%C3%A9%2F1") == {
        "number": "é/1"
    }


def test_a_proxy_response_keeps_every_header_value_and_one_content_type():
    response = chalice_response(
        {
            "statusCode": 201,
            "headers": {"location": "/support/tickets/01J", "content-type": "text/plain"},
            "multiValueHeaders": {"Content-Type": ["application/json"], "Set-Cookie": ["a=1", "b=2"]},
            "body": '{"id": "01J"}',
            "isBase64Encoded": False,
        }
    )

    assert response.status_code == 201
    assert response.headers == {
        "location": "/support/tickets/01J",
        "Set-Cookie": ["a=1", "b=2"],
        "Content-Type": "application/json",
    }
    assert response.body == '{"id": "01J"}'


def test_a_base64_proxy_body_is_sent_as_bytes():
    response = chalice_response(
        {"statusCode": 200, "headers": {"Content-Type": "image/png"}, "body": "iVBORw==", "isBase64Encoded": True}
    )

    assert response.body == base64.b64decode("iVBORw==")

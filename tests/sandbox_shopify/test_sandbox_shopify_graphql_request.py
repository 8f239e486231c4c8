"""How the sandbox's GraphQL endpoint reads a request before running it: body formats, variables,
operation choice, and the early answers for each malformed request, over real sockets."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from aftersale_kit_shopify.sandbox import ShopifySandbox


def post(sandbox: ShopifySandbox, data: bytes, content_type: str) -> requests.Response:
    url = sandbox.graphql_url()
    headers = {"X-Shopify-Access-Token": sandbox.token, "Content-Type": content_type}
    return requests.post(url, data=data, headers=headers, timeout=5)


@pytest.mark.parametrize(
    ("data", "status", "body"),
    [
        (b"{not json", 400, {"errors": "Invalid JSON in request body"}),
        (b"[1, 2]", 400, {"errors": "Invalid JSON in request body"}),
        (b'{"query": "  "}', 400, {"errors": {"query": "Required parameter missing or invalid"}}),
        (
            b'{"query": "{ shop { name } }", "variables": [1]}',
            200,
            {"errors": [{"message": "Variables must be an object"}]},
        ),
        (
            b'{"query": "query A { shop { name } } query B { shop { name } }"}',
            200,
            {
                "errors": [
                    {"message": "An operation name is required when sending multiple operations."}
                ]
            },
        ),
        (
            b'{"query": "query A { shop { name } }", "operationName": "C"}',
            200,
            {"errors": [{"message": 'No operation named "C"'}]},
        ),
    ],
)
def test_malformed_requests_are_answered_before_running(
    sandbox: ShopifySandbox, data: bytes, status: int, body: Any
) -> None:
    # when a malformed request is posted
    response = post(sandbox, data, "application/json")
    # then it gets Shopify's answer
    assert (response.status_code, response.json()) == (status, body)


def test_named_operation_and_graphql_body_run(sandbox: ShopifySandbox) -> None:
    # when one of two named operations is chosen
    chosen = post(
        sandbox,
        b'{"query": "query A { shop { name } } query B { shop { currencyCode } }",'
        b' "operationName": "B", "variables": {}}',
        "application/json",
    )
    # then only that one runs, with its cost reported
    assert chosen.status_code == 200
    assert chosen.json()["data"] == {"shop": {"currencyCode": "USD"}}
    assert chosen.json()["extensions"]["cost"]["requestedQueryCost"] == 1
    # and a raw application/graphql body is a query too
    raw = post(sandbox, b"{ shop { currencyCode } }", "application/graphql")
    assert raw.json()["data"] == {"shop": {"currencyCode": "USD"}}
    # and a syntax error is a GraphQL error in a 200
    broken = post(sandbox, b"{ shop { name }", "application/graphql")
    assert broken.status_code == 200
    assert broken.json()["errors"][0]["message"] == "Unexpected end of document"

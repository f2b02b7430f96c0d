"""The OpenAPI description is generated from the route table and the models, whole."""

from __future__ import annotations

import json
from typing import Any

from bot.transport.api.openapi import openapi
from bot.transport.api.routes import ROUTES


def refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(refs(v) for v in node))
    return set()


def test_every_route_is_described_and_every_reference_resolves() -> None:
    doc = openapi()
    assert doc["openapi"] == "3.1.0"
    described = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert described == {(r.method, r.path) for r in ROUTES}
    schemas = doc["components"]["schemas"]
    for ref in refs(doc):
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    json.dumps(doc)  # JSON-ready


def test_every_error_answer_has_the_one_error_shape_and_bodies_carry_examples() -> None:
    doc = openapi()
    for ops in doc["paths"].values():
        for op in ops.values():
            for status, answer in op["responses"].items():
                ref = answer["content"]["application/json"]["schema"]["$ref"]
                if int(status) >= 400 or status == "202":
                    assert ref.endswith("/ErrorOut"), (op["operationId"], status)
    start = doc["components"]["schemas"]["StartIn"]["properties"]
    assert start["name"]["examples"] == ["DB down"]
    assert start["name"]["maxLength"] == 64  # the limit of chat, published

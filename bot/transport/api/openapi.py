"""The OpenAPI 3.1 description of ``/api/v1``, generated from :data:`ROUTES` and the models.

Nothing here is written by hand about a body: schemas are pydantic's JSON Schema (draft
2020-12, the dialect OpenAPI 3.1 uses) of the models each route names, with their examples.
"""

from __future__ import annotations

import re
from importlib.metadata import version
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from bot.transport.api.routes import ROUTES, Route
from bot.transport.api.schemas import ErrorOut

REF = "#/components/schemas/{model}"
PATH_PARAM = re.compile(r"{(\w+)}")
_WHY = {
    202: "Mattermost's answer was lost: recorded, and finished in the background",
    400: "The request is not valid (the field says which part)",
    401: "No token, or Mattermost does not accept it",
    403: "The caller may see the incident but not change it",
    404: "Not found, or not visible to the caller",
    409: "The incident is not in a state that allows this",
    413: "The request body is larger than any chat's limits allow",
    503: "Mattermost did not answer in time",
}


def _models() -> list[type[BaseModel]]:
    seen: dict[str, type[BaseModel]] = {"ErrorOut": ErrorOut}
    for route in ROUTES:
        for model in (route.answer, route.body):
            if model is not None:
                seen[model.__name__] = model
    return list(seen.values())


def _parameters(route: Route) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "maxLength": 64},
        }
        for name in PATH_PARAM.findall(route.path)
    ]
    if route.query is not None:
        schema = route.query.model_json_schema(ref_template=REF)
        required = set(schema.get("required", []))
        for name, prop in schema["properties"].items():
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
            if "description" in prop:
                param["description"] = prop.pop("description")
            prop.pop("title", None)
            param["schema"] = prop
            params.append(param)
    return params


def json_of(model: type[BaseModel]) -> dict[str, Any]:
    """A JSON content entry referring to ``model``'s schema."""
    return {"application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}}


def _errors(route: Route) -> tuple[int, ...]:
    """The error statuses of ``route``: its own, and 413 wherever a body is read
    (bot/transport/api/routes.py ``_read_bounded``)."""
    return (*route.errors, 413) if route.body is not None else route.errors


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": route.name,
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": _parameters(route),
        "responses": {
            str(route.status): {"description": "Done", "content": json_of(route.answer)},
            **{
                str(code): {"description": _WHY[code], "content": json_of(ErrorOut)}
                for code in _errors(route)
            },
        },
    }
    if route.body is not None:
        op["requestBody"] = {"required": True, "content": json_of(route.body)}
    return op


def openapi() -> dict[str, Any]:
    """The whole description, as a JSON-ready dict."""
    _, defs = models_json_schema([(m, "validation") for m in _models()], ref_template=REF)
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "warroom",
            "version": version("warroom"),
            "description": (
                "Incidents in Mattermost. Authenticate with a Mattermost personal access token"
                " or session token (`Authorization: Bearer <token>`): the API acts with exactly"
                " the caller's rights in chat."
            ),
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {"mattermost": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"mattermost": []}],
        "paths": paths,
    }

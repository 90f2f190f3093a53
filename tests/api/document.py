"""The OpenAPI document the API serves, and a JSON Schema check of answers against it."""

import json
from functools import cache
from typing import Any

import jsonschema_rs

from api.urls import api


@cache
def document() -> dict[str, Any]:
    return json.loads(json.dumps(api.get_openapi_schema()))


def conforms(value: Any, schema: dict[str, Any]) -> bool:
    """JSON Schema 2020-12 (what OpenAPI 3.1 uses); #/components/... references resolve
    because the document's components ride along in the root schema."""
    return jsonschema_rs.Draft202012Validator({**schema, "components": document()["components"]}).is_valid(value)


def response_schema(path: str, method: str, status: int) -> dict[str, Any]:
    return document()["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]


def request_schema(name: str) -> dict[str, Any]:
    return document()["components"]["schemas"][name]

"""The OpenAPI 3.1 document, generated from the route list and the pydantic models of the
bodies and replies (never written by hand, so it cannot drift from the routes)."""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from hotline.api.routes import Route

_REF = "#/components/schemas/{model}"
_STATUS_TEXT = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    400: "The body is not valid JSON (`bad_json`)",
    401: "No valid bearer token (`unauthorized`)",
    403: "The token's role may not do this (`forbidden`)",
    404: "Nothing by that name (`not_found`); `field` names the path parameter",
    409: "In conflict with the current state (`conflict`); `detail` says why",
    422: "A value is wrong (`invalid`); `field` names it, `detail` says why",
    429: "Too many of these lately (`too_many`); `detail` says what to do",
    503: "The database is unavailable (`unavailable`)",
}
_NOT_UPGRADE = "Not a WebSocket upgrade request (`bad_request`)"


class Error(BaseModel):
    """Every error reply."""

    error: str
    field: str | None = None
    detail: str | None = None


def _operation_id(route: Route) -> str:
    words = re.sub(r"[{}]", "", route.path).strip("/").replace("/", "_").replace("-", "_")
    return f"{route.method.lower()}_{words}"


def document(routes: Sequence[Route], *, title: str, version: str) -> dict[str, Any]:
    inputs: list[tuple[Any, JsonSchemaMode, TypeAdapter[Any]]] = [
        ("error", "serialization", TypeAdapter(Error))
    ]
    for i, route in enumerate(routes):
        if route.body is not None:
            inputs.append(((i, "body"), "validation", TypeAdapter(route.body)))
        if route.reply is not None:
            inputs.append(((i, "reply"), "serialization", TypeAdapter(route.reply)))
    schemas, defs = TypeAdapter.json_schemas(inputs, ref_template=_REF)
    components: dict[str, Any] = dict(defs.get("$defs", {}))
    paths: dict[str, dict[str, Any]] = {}
    for i, route in enumerate(routes):
        operation: dict[str, Any] = {
            "operationId": _operation_id(route),
            "summary": route.summary,
            "tags": [route.tag],
            "responses": {},
        }
        if route.roles:
            operation["description"] = (
                "Roles: "
                + ", ".join(route.roles)
                + (" (and the operator it concerns)" if route.self_operator else "")
            )
            operation["x-roles"] = list(route.roles)
        operation["security"] = [] if route.access == "public" else [{"bearer": []}]
        parameters = [
            {
                "name": name,
                "in": "path",
                "required": True,
                "description": param.description,
                "schema": {"type": "integer", "minimum": 1}
                if param.integer
                else {"type": "string", "pattern": f"^{param.pattern}$"},
            }
            for name, param in route.params.items()
        ]
        parameters += [
            {
                "name": q.name,
                "in": "query",
                "required": q.required,
                "description": q.description,
                "schema": dict(q.schema),
            }
            for q in route.query
        ]
        if parameters:
            operation["parameters"] = parameters
        if route.body is not None:
            body = schemas[((i, "body"), "validation")]
            if route.method == "PATCH":
                body = _partial(body, components, route.fixed)
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": body}},
            }
        responses = operation["responses"]
        if route.websocket:
            responses["101"] = {"description": "Switching to the WebSocket protocol"}
        else:
            reply_schema = (
                schemas[((i, "reply"), "serialization")] if route.reply is not None else None
            )
            if reply_schema is None and route.content_type != "application/json":
                reply_schema = {"type": "string", "contentMediaType": route.content_type}
            if route.status == 204:
                responses["204"] = {"description": _STATUS_TEXT[204]}
                if reply_schema is not None:  # kept instead of deleted: the record comes back
                    responses["200"] = _content(route, reply_schema, 200)
            else:
                for status in (route.status, *route.also):
                    responses[str(status)] = (
                        _content(route, reply_schema, status)
                        if reply_schema is not None
                        else {"description": _STATUS_TEXT.get(status, "")}
                    )
        codes = set(route.errors)
        if route.access != "public":
            codes |= {401, 503}
            if route.roles:
                codes |= {403}
        if route.body is not None:
            codes |= {400, 422}
        if route.params:
            codes |= {404}
        if route.websocket:
            codes |= {400}  # a plain GET: aiohttp refuses what is not an upgrade
        for code in sorted(codes):
            responses[str(code)] = {
                "description": _NOT_UPGRADE
                if route.websocket and code == 400
                else _STATUS_TEXT[code],
                "content": {"application/json": {"schema": schemas[("error", "serialization")]}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": title,
            "version": version,
            "description": "The call controller of the elderly-care hotline: its admin API, "
            "the live floor and the event stream. Every route but /healthz and this document "
            "needs `Authorization: Bearer <token>`.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _partial(schema: dict[str, Any], components: dict[str, Any], fixed: tuple[str, ...]) -> Any:
    """A PATCH body: the model's fields, none required, less those that cannot change; the
    server lays it over the stored record and validates the result whole."""
    ref = schema.get("$ref", "")
    name = ref.rsplit("/", 1)[-1]
    if name not in components:
        return schema
    patch_name = f"{name}Patch"
    if patch_name not in components:
        whole = copy.deepcopy(components[name])
        whole.pop("required", None)
        for key in fixed:
            whole.get("properties", {}).pop(key, None)
        whole["title"] = patch_name
        whole["description"] = (
            "Any of the fields, laid over the stored settings; the result is validated whole."
        )
        components[patch_name] = whole
    return {"$ref": _REF.format(model=patch_name)}


def _content(route: Route, schema: dict[str, Any], status: int) -> dict[str, Any]:
    content = {route.content_type: {"schema": schema}}
    for other in route.also_types:
        content[other] = {"schema": {"type": "string", "contentMediaType": other}}
    return {"description": _STATUS_TEXT.get(status, "OK"), "content": content}

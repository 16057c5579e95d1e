"""The OpenAPI 3.1 document served at ``/api/openapi.json``, written by hand: the API is small, and a
document generated from docstrings would need a YAML parser outside core's one loader."""

from __future__ import annotations

from typing import Any


def _q(name: str, description: str, schema: dict[str, Any], required: bool = False) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": required, "description": description, "schema": schema}


_STR = {"type": "string"}
_ERR = {
    "description": "bad request, unknown asset or zone, refused write",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
_ZONE = {"name": "zone", "in": "path", "required": True, "schema": _STR, "description": "zone name"}
_WALK = [
    _q("depth", "hops (1-20, default 2)", {"type": "integer", "minimum": 1, "maximum": 20}),
    _q("min_confidence", "edges below this are not crossed", {"type": "number", "minimum": 0, "maximum": 1}),
    _q("kinds", "comma-separated evidence kinds (sql, static, runtime, config, context, declared)", _STR),
    _q("direct_only", "do not cross INDIRECT-only hops", {"type": "boolean"}),
]


def _get(summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": params,
            "responses": {
                "200": {
                    "description": "JSON answer",
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "400": _ERR,
                "404": _ERR,
            },
        }
    }


OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "flowscope ui",
        "version": "1",
        "description": "Lineage and policy-zone review over the embedded store. Writes (review) need "
        "Authorization: Bearer <token> when the server is bound beyond loopback.",
    },
    "paths": {
        "/api/info": _get("server mode: read_only, token_required, reviewer, max_nodes", []),
        "/api/search": _get(
            "datasets and fields whose name contains q",
            [_q("q", "text to look for", _STR, True), _q("limit", "at most (1-200)", {"type": "integer"})],
        ),
        "/api/neighbourhood": _get(
            "the bounded neighbourhood of an asset (at most 300 nodes, the rest folded into 'N more' groups)",
            [
                _q("asset", "asset id or short form", _STR, True),
                _q("direction", "down, up or both", {"enum": ["down", "up", "both"]}),
                *_WALK,
                _q("namespace", "comma-separated namespace prefixes to keep (system filter)", _STR),
                _q("category", "comma-separated data categories to keep", _STR),
                _q("limit", "node budget (2-300)", {"type": "integer"}),
            ],
        ),
        "/api/why": _get(
            "the most confident path between two assets, with evidence",
            [_q("source", "asset", _STR, True), _q("target", "asset", _STR, True), *_WALK[1:]],
        ),
        "/api/asset": _get("fields, tags, owners, writers of an asset", [_q("asset", "asset", _STR, True)]),
        "/api/edge": _get(
            "every stored edge between two drawn assets, with all its evidence",
            [_q("source", "asset", _STR, True), _q("target", "asset", _STR, True)],
        ),
        "/api/zones": _get("zones of the config, and broken zone files", []),
        "/api/zones/{zone}/status": _get(
            "zone status: a sorted, filtered page of assets and every asset's status (colours)",
            [
                _ZONE,
                _q("status", "comma-separated statuses", _STR),
                _q("sort", "status, asset, confidence, hops or decision", _STR),
                _q("order", "asc or desc", {"enum": ["asc", "desc"]}),
                _q("q", "asset id contains", _STR),
                _q("offset", "first row", {"type": "integer"}),
                _q("limit", "rows (1-5000)", {"type": "integer"}),
            ],
        ),
        "/api/zones/{zone}/queue": _get("this iteration's review candidates (zone discover)", [_ZONE]),
        "/api/zones/{zone}/decisions": _get("the zone's review file", [_ZONE]),
        "/api/zones/{zone}/review": {
            "post": {
                "summary": "record include / exclude / acknowledge / clear (as `flowscope zone review`)",
                "parameters": [_ZONE],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["action", "assets"],
                                "properties": {
                                    "action": {"enum": ["include", "exclude", "acknowledge", "clear"]},
                                    "assets": {"type": "array", "items": _STR, "minItems": 1},
                                    "reason": _STR,
                                    "downstream": {"type": "boolean"},
                                },
                            }
                        }
                    },
                },
                "security": [{"token": []}],
                "responses": {
                    "200": {"description": "what changed (zone review --json)"},
                    "400": _ERR,
                    "401": _ERR,
                    "403": _ERR,
                    "404": _ERR,
                },
            }
        },
    },
    "components": {
        "schemas": {"Error": {"type": "object", "required": ["error"], "properties": {"error": _STR}}},
        "securitySchemes": {"token": {"type": "http", "scheme": "bearer"}},
    },
}

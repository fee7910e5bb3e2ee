"""The HTTP API described once as OpenAPI 3.1, and the same description as one readable HTML page.

``GET /api/openapi.json`` serves :func:`openapi_spec`, ``GET /api/docs`` serves :func:`docs_html`:
plain HTML and CSS written here from the spec, no script and nothing fetched from elsewhere, so it
reads the same without internet. ``tests/test_api.py`` checks that the spec names every route of
:func:`hdr.serving.api.api_routes` with its method, and nothing else.
"""

from __future__ import annotations

import html
import json
from typing import Any

TITLE = "HDR digit API"
VERSION = "1"

_ERROR = {"type": "object", "properties": {"error": {"type": "string"}}, "required": ["error"]}
_FILE_ERROR = {
    "type": "object",
    "properties": {"path": {"type": "string"}, "error": {"type": "string"}},
    "required": ["path", "error"],
}
_PREDICTION = {
    "type": "object",
    "properties": {
        "path": {"type": "string", "description": "the file's name as uploaded"},
        "digit": {"type": ["integer", "null"], "description": "0-9, or null when the picture holds no digit"},
        "confidence": {"type": "number", "description": "the digit's probability, 0-1"},
        "probabilities": {"type": "array", "items": {"type": "number"}, "description": "the ten digits' probabilities"},
    },
    "required": ["path", "digit"],
}
_READING = {
    "type": "object",
    "properties": {
        "path": {"type": "string"},
        "text": {"type": "string", "description": "the digits read, left to right; lines joined by a newline"},
        "digits": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "digit": {"type": "integer"},
                    "confidence": {"type": "number"},
                    "box": {"type": "array", "items": {"type": "integer"}, "description": "x, y, w, h in the photo"},
                },
            },
        },
    },
    "required": ["path", "text", "digits"],
}
_IMAGES = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {"file": {"type": "array", "items": {"type": "string", "format": "binary"}}},
            },
            "example": "curl -F file=@seven.png -F file=@two.png http://localhost:8501{path}",
        }
    },
    "description": "One or several images (PNG, JPEG, WebP, BMP, HEIC) as multipart files, up to 64 "
    "per request, 25 MB each and 100 MB in all.",
}


def _one_or_many(schema: dict) -> dict:
    """One object for one file, a list of them for several."""
    item = {"oneOf": [schema, _FILE_ERROR]}
    return {"oneOf": [item, {"type": "array", "items": item}]}


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _image_route(summary: str, description: str, schema: dict, path: str) -> dict:
    """The shared shape of ``/api/predict`` and ``/api/read``."""
    body = json.loads(json.dumps(_IMAGES).replace("{path}", path))
    return {
        "post": {
            "summary": summary,
            "description": description,
            "requestBody": body,
            "responses": {
                "200": _json("every file answered", _one_or_many(schema)),
                "400": _json("no file, or not a multipart body", _ERROR),
                "413": _json("too many files, or the request is too large", _ERROR),
                "422": _json("at least one file could not be read: its entry has an error, the others are answered", _one_or_many(schema)),
                "503": _json("busy (retry after the Retry-After seconds), or the active model does not load", _ERROR),
            },
        }
    }  # fmt: skip


def openapi_spec() -> dict[str, Any]:
    """The API's OpenAPI 3.1 description: every route, its method, its body and its answers."""
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Handwritten digits read by the active model of this server. Read-only: the API "
            "changes nothing. A wrong method gets 405 with an Allow header; every error is one line of JSON.",
        },
        "paths": {
            "/api/predict": _image_route(
                "The single digit in each picture",
                "What `hdr predict --json` prints, per file, in order; all files in one batched forward pass.",
                _PREDICTION,
                "/api/predict",
            ),
            "/api/read": _image_route(
                "Every digit in each picture: whole numbers",
                "What `hdr read --json` prints, per file: the digits left to right, lines top to bottom.",
                _READING,
                "/api/read",
            ),
            "/api/models": {
                "get": {
                    "summary": "The saved models",
                    "description": "Each saved model with its MNIST test accuracy and whether it is the active one.",
                    "responses": {
                        "200": _json(
                            "the models, the default first",
                            {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "name": {"type": "string"},
                                        "accuracy": {"type": ["number", "null"]},
                                        "active": {"type": "boolean"},
                                        "problem": {"type": "string", "description": "only for a damaged card"},
                                    },
                                },
                            },
                        )
                    },
                }
            },
            "/api/health": {
                "get": {
                    "summary": "Whether the server can answer",
                    "description": "`ok` and the active model's name once it loads.",
                    "responses": {
                        "200": _json(
                            "the active model loads",
                            {"type": "object", "properties": {"status": {"const": "ok"}, "model": {"type": "string"}}},
                        ),
                        "503": _json("the active model is missing or damaged", _ERROR),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "summary": "This description, as OpenAPI 3.1 JSON",
                    "responses": {"200": _json("the spec", {"type": "object"})},
                }
            },
            "/api/docs": {
                "get": {
                    "summary": "This description as a page to read",
                    "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}},
                }
            },
        },
    }


_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; }
h2 { margin-top: 2.5rem; border-top: 1px solid #8884; padding-top: 1rem; font-family: ui-monospace, monospace; }
.method { background: #2563eb; color: white; border-radius: 4px; padding: 0 .4rem; margin-right: .5rem; }
code, pre { font-family: ui-monospace, monospace; background: #8882; border-radius: 4px; padding: 0 .2rem; }
pre { padding: .5rem; overflow-x: auto; }
td { vertical-align: top; padding: .2rem .8rem .2rem 0; }
@media (prefers-color-scheme: dark) { body { background: #0e1117; color: #e6e6e6; } a { color: #8ab4f8; } }
"""


def _code_spans(text: str) -> str:
    """Escaped text with `backticks` as <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _operation_html(path: str, method: str, operation: dict) -> str:
    out = [f'<h2 id="{html.escape(path)}"><span class="method">{method.upper()}</span>{html.escape(path)}</h2>']
    out.append(f"<p><strong>{_code_spans(operation['summary'])}</strong></p>")
    if "description" in operation:
        out.append(f"<p>{_code_spans(operation['description'])}</p>")
    body = operation.get("requestBody")
    if body:
        out.append(f"<p>Body: {_code_spans(body['description'])}</p>")
        for media in body["content"].values():
            if "example" in media:
                out.append(f"<pre>{html.escape(media['example'])}</pre>")
    rows = []
    for status, response in operation["responses"].items():
        schema = next(iter(response.get("content", {}).values()), {}).get("schema")
        shape = (
            f"<pre>{html.escape(json.dumps(schema, indent=1))}</pre>" if schema and schema != {"type": "object"} else ""
        )
        rows.append(f"<tr><td><code>{status}</code></td><td>{_code_spans(response['description'])}{shape}</td></tr>")
    out.append("<table>" + "".join(rows) + "</table>")
    return "\n".join(out)


def docs_html(spec: dict[str, Any] | None = None) -> str:
    """The spec as one self-contained HTML page: no script, nothing loaded from elsewhere."""
    spec = spec or openapi_spec()
    info = spec["info"]
    operations = [
        (path, method, operation) for path, methods in spec["paths"].items() for method, operation in methods.items()
    ]
    index = "".join(
        f'<li><a href="#{html.escape(p)}"><code>{m.upper()} {html.escape(p)}</code></a>: {_code_spans(o["summary"])}</li>'
        for p, m, o in operations
    )
    body = "\n".join(_operation_html(p, m, o) for p, m, o in operations)
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(info['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(info['title'])}</h1><p>{_code_spans(info['description'])}</p>"
        f"<p>The same as OpenAPI {html.escape(spec['openapi'])}: <a href='/api/openapi.json'>/api/openapi.json</a>.</p>"
        f"<ul>{index}</ul>{body}</body></html>"
    )

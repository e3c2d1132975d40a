"""The API's OpenAPI 3.1 description, built from the pydantic models the handlers read and return.

Each route declares its operation next to its handler, between `@bp.route` and `@api`:

    @bp.route("/customers/{customer_id}", methods=["GET"])
    @operation("A customer's profile and timeline", "customers",
               {200: "chalicelib.domain.customers:CustomerDetail"}, errors=(404,))
    @api
    def get_customer(customer_id: str) -> Any: ...

Models are named `"module:Class"` and imported only when the document is built (`document`),
so declaring one costs a handler module nothing at cold start (handlers/__init__.py). A route
without a declaration makes `document` raise `Undeclared`, naming it.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

ATTRIBUTE = "__patron_openapi__"
FREEFORM = "object"  # a JSON object whose shape no model states yet
HTML = "text/html"
ERROR_BODY = "chalicelib.handlers.http:ErrorBody"
TITLE = "Patron admin API"
VERSION = "1"
ERRORS = {  # status: (its shared response's name in components.responses, what it means)
    400: ("BadRequest", "The request is invalid: the details name each field"),
    401: ("Unauthorized", "No bearer API key, or an unknown one"),
    404: ("NotFound", "No such resource in this workspace"),
    409: ("Conflict", "A business rule refuses the request: `details.reason` says which"),
    413: ("PayloadTooLarge", "The body is too large"),
    415: ("UnsupportedMediaType", "The request's content type is not accepted"),
    422: ("UnprocessableEntity", "The request is well formed but cannot be processed"),
    429: ("TooManyRequests", "Over the workspace's requests per minute: retry after `Retry-After` seconds"),
    502: ("StoreFailed", "The store (its Admin API) failed"),
}

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Operation:
    """What a route takes and answers: models by `"module:Class"` name, `FREEFORM`, or None."""

    summary: str
    tag: str
    responses: Mapping[int, str | None]
    body: str | None = None
    query: str | None = None
    errors: tuple[int, ...] = ()
    public: bool = False
    media: str = "application/json"
    headers: tuple[str, ...] = ()
    page_errors: bool = False  # its declared errors are HTML pages, not the JSON error body
    description: str = ""


class Undeclared(Exception):
    """Routes without an `@operation` declaration."""

    def __init__(self, routes: list[str]) -> None:
        self.routes = routes
        super().__init__(
            "routes without an OpenAPI declaration: "
            + ", ".join(routes)
            + " (add @operation(...) next to each handler, see chalicelib/handlers/openapi.py,"
            " then run `make openapi`)"
        )


def operation(
    summary: str,
    tag: str,
    responses: Mapping[int, str | None],
    *,
    body: str | None = None,
    query: str | None = None,
    errors: Iterable[int] = (),
    public: bool = False,
    media: str = "application/json",
    headers: Iterable[str] = (),
    page_errors: bool = False,
    description: str = "",
) -> Callable[[F], F]:
    """Declare the route's operation on its view function (read back by `document`)."""
    declared = Operation(
        summary,
        tag,
        dict(responses),
        body,
        query,
        tuple(errors),
        public,
        media,
        tuple(headers),
        page_errors,
        description,
    )

    def mark(view: F) -> F:
        setattr(view, ATTRIBUTE, declared)
        return view

    return mark


def declared(view: Callable[..., Any]) -> Operation | None:
    found = getattr(view, ATTRIBUTE, None)
    return found if isinstance(found, Operation) else None


def _model(name: str) -> Any:
    module, _, cls = name.partition(":")
    return getattr(importlib.import_module(module), cls)


def _named(op: Operation) -> Iterable[tuple[str, str]]:
    """The (model, mode) pairs an operation names: bodies validated, responses serialized."""
    if op.body not in (None, FREEFORM):
        yield str(op.body), "validation"
    for model in op.responses.values():
        if model not in (None, FREEFORM) and op.media != HTML:
            yield str(model), "serialization"


def _schema(name: str | None, mode: str, refs: Mapping[tuple[str, str], Any]) -> dict[str, Any]:
    if name == FREEFORM or name is None:
        return {"type": "object"}
    return dict(refs[(name, mode)])


def _parameters(path: str, op: Operation) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"{(\w+)}", path)
    ]
    params += [
        {"name": name, "in": "header", "required": True, "schema": {"type": "string"}} for name in op.headers
    ]
    if op.query is not None:
        model = _model(op.query)
        schema = model.model_json_schema(mode="validation")
        required = set(schema.get("required", ()))
        for name, prop in schema.get("properties", {}).items():
            param: dict[str, Any] = {"name": name, "in": "query", "required": name in required}
            if "description" in prop:
                param["description"] = prop.pop("description")
            prop.pop("title", None)
            if prop.get("default", 0) is None:
                del prop["default"]
            kinds = [k for k in prop.pop("anyOf", ()) if k != {"type": "null"}]
            param["schema"] = {**kinds[0], **prop} if len(kinds) == 1 else prop
            if len(kinds) > 1:
                param["schema"]["anyOf"] = kinds
            params.append(param)
    return params


def _statuses(op: Operation) -> list[int]:
    automatic = [] if op.public else [401, 429]
    if op.body is not None:
        automatic += [400, 415]
    return sorted(set(op.errors) | set(automatic))


def _operation(path: str, method: str, view: Callable[..., Any], op: Operation, refs: Any) -> dict[str, Any]:
    found: dict[str, Any] = {"operationId": view.__name__, "summary": op.summary, "tags": [op.tag]}
    if op.description:
        found["description"] = op.description
    if op.public:
        found["security"] = []
    parameters = _parameters(path, op)
    if parameters:
        found["parameters"] = parameters
    if op.body is not None:
        found["requestBody"] = {
            "required": op.body == FREEFORM or bool(_model(op.body).model_json_schema().get("required")),
            "content": {"application/json": {"schema": _schema(op.body, "validation", refs)}},
        }
    responses: dict[str, Any] = {}
    for status, model in sorted(op.responses.items()):
        answer: dict[str, Any] = {"description": _success_text(status)}
        if op.media == HTML:
            answer["content"] = {HTML: {"schema": {"type": "string"}}}
        elif model is not None:
            answer["content"] = {op.media: {"schema": _schema(model, "serialization", refs)}}
        responses[str(status)] = answer
    for status in _statuses(op):
        name, text = ERRORS[status]
        error: dict[str, Any] = {"$ref": f"#/components/responses/{name}"}
        if op.page_errors and status in op.errors:  # a page refuses with a page
            error = {"description": text, "content": {HTML: {"schema": {"type": "string"}}}}
        elif op.public and status == 401:  # no key to refuse: a signature (the webhooks)
            body = {"application/json": {"schema": _schema(ERROR_BODY, "serialization", refs)}}
            error = {
                "description": "The signature is missing or wrong, or its source unknown",
                "content": body,
            }
        responses.setdefault(str(status), error)
    found["responses"] = dict(sorted(responses.items()))
    return found


def _error_responses(refs: Mapping[tuple[str, str], Any]) -> dict[str, Any]:
    """The shared error responses, each the one error body."""
    shared: dict[str, Any] = {}
    for status, (name, text) in sorted(ERRORS.items()):
        schema = _schema(ERROR_BODY, "serialization", refs)
        shared[name] = {"description": text, "content": {"application/json": {"schema": schema}}}
        if status == 429:
            shared[name]["headers"] = {"Retry-After": {"schema": {"type": "integer"}}}
    return shared


def _success_text(status: int) -> str:
    return {200: "OK", 201: "Created", 202: "Accepted", 204: "No content"}.get(status, "OK")


def document(routes: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The OpenAPI 3.1 document of Chalice's `app.routes` (path -> method -> RouteEntry)."""
    from pydantic.json_schema import models_json_schema

    from chalicelib.handlers.http import CATCH_ALL  # the unknown paths' 404: no operation of its own

    entries = [
        (path, method, entry)
        for path, methods in routes.items()
        if path not in CATCH_ALL
        for method, entry in methods.items()
    ]
    found = [(p, m, e.view_function, declared(e.view_function)) for p, m, e in entries]
    ops = [(p, m, view, op) for p, m, view, op in found if op is not None]
    if len(ops) < len(found):
        raise Undeclared(sorted(f"{m} {p}" for p, m, _, op in found if op is None))
    pairs = sorted({(ERROR_BODY, "serialization")} | {pair for *_, op in ops for pair in _named(op)})
    models: list[tuple[Any, Any]] = [(_model(name), mode) for name, mode in pairs]
    refs, defs = models_json_schema(models, ref_template="#/components/schemas/{model}")
    by_name = {pair: refs[model] for pair, model in zip(pairs, models, strict=True)}
    paths: dict[str, Any] = {}
    for path, method, view, op in sorted(ops, key=lambda o: (o[0], o[1])):
        paths.setdefault(path, {})[method.lower()] = _operation(path, method, view, op, by_name)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Every call needs `Authorization: Bearer API_KEY` unless marked public.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "tags": [{"name": t} for t in sorted({op.tag for *_, op in ops})],
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "responses": _error_responses(by_name),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def dumps(doc: Mapping[str, Any]) -> str:
    """The document as committed in docs/openapi.json (stable: a diff is a change to the API)."""
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"

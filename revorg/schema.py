"""What the OpenAPI schema says beyond what drf-spectacular infers from views and serializers.

Generated clients are only as good as the schema: the API-key authenticator is declared as
the bearer scheme it is, and every operation documents the error answers it can give, with
the bodies `revorg.errors.exception_handler` sends, so a client can decode them too.
"""

import inspect

from drf_spectacular import openapi
from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "revorg.authentication.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "a workspace API key"}


ERROR_COMPONENTS = {
    "Error": {
        "type": "object",
        "description": "An error with a human message and a stable code.",
        "properties": {
            "detail": {"type": "string"},
            "code": {"type": "string"},
        },
        "required": ["detail"],
        "additionalProperties": True,
    },
    "ValidationError": {
        "type": "object",
        "description": (
            'Field errors, DRF style: {"field": ["message", …]} (nested objects for nested '
            'fields; rule errors are [{"path", "message"}]), or {"detail", "code"}.'
        ),
        "additionalProperties": True,
    },
}

_ERRORS = {
    "400": ("The input was refused; the body names each field.", "ValidationError"),
    "401": ("No API key or session, or the key is invalid.", "Error"),
    "403": ("The key lacks the scope, or the user the role.", "Error"),
    "404": ("No such object in this workspace.", "Error"),
    "409": ("The request conflicts with the current state.", "Error"),
    "413": ("The body is too large.", "Error"),
    "415": ("The body is not JSON (CSV uploads excepted).", "Error"),
    "429": ("Too many requests for this key; retry after Retry-After seconds.", "Error"),
    "503": ("A concurrent change got in the way; nothing was written, retry.", "Error"),
}
_WRITE_METHODS = {"post", "put", "patch", "delete"}


def _statuses_for(method: str, path: str) -> list[str]:
    # 404: an object that is not there, or for lists a page past the end.
    statuses = ["400", "401", "403", "404", "429"]
    if method in _WRITE_METHODS:
        statuses += ["409", "413", "415", "503"]
    return statuses


def error_responses(result, generator, request, public):
    """Postprocessing hook: adds the error answers to every operation (kept where a view
    documented its own)."""
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components.update(ERROR_COMPONENTS)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            for status in _statuses_for(method, path):
                description, component = _ERRORS[status]
                responses.setdefault(
                    status,
                    {
                        "description": description,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": f"#/components/schemas/{component}"}
                            }
                        },
                    },
                )
    return result


class AutoSchema(openapi.AutoSchema):
    """Descriptions come from what a view says of itself: the handler's own docstring, else
    the view class's own. An inherited docstring (the base viewset's note to developers, a
    DRF mixin's) is no description of the operation and is not published."""

    def get_description(self):
        action = getattr(self.view, "action", None) or self.method.lower()
        handler_doc = None
        for klass in type(self.view).__mro__:
            if action in vars(klass):
                if not klass.__module__.startswith(("rest_framework", "revorg.api")):
                    handler_doc = vars(klass)[action].__doc__
                break
        return inspect.cleandoc(handler_doc or vars(type(self.view)).get("__doc__") or "")

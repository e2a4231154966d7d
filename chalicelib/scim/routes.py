"""SCIM 2.0 routes under /scim/v2 (RFC 7644), kept out of ``api_route``.

SCIM has its own error schema and content type, so these routes do not go
through the REST decorator; the same discipline holds in ``api.dispatch``
(authentication, one error mapping). The handler module, and with it
scim2-models, is imported on the first SCIM request only.
"""

from __future__ import annotations

from chalice import Blueprint, Response

bp = Blueprint(__name__)

PREFIX = "/scim/v2"
CONTENT_TYPES = ["application/scim+json", "application/json"]
WRITES = ["POST", "PUT", "PATCH", "DELETE"]


def _route(path: str, methods: list[str], handler: str) -> None:
    def view(**params: str) -> Response:
        from . import api

        return api.dispatch(handler, bp.current_request, params)

    where = "".join(c if c.isalnum() else "_" for c in path.lower()).strip("_")
    name = f"scim_{where}_{'_'.join(m.lower() for m in methods)}"
    view.__name__ = name
    bp.route(PREFIX + path, methods=methods, content_types=CONTENT_TYPES, name=name)(view)


ROUTES: list[tuple[str, list[str], str]] = [
    ("/ServiceProviderConfig", ["GET"], "service_provider_config"),
    ("/ServiceProviderConfig", WRITES, "method_not_allowed"),
    ("/ResourceTypes", ["GET"], "list_resource_types"),
    ("/ResourceTypes", WRITES, "method_not_allowed"),
    ("/ResourceTypes/{type_id}", ["GET"], "get_resource_type"),
    ("/ResourceTypes/{type_id}", WRITES, "method_not_allowed"),
    ("/Schemas", ["GET"], "list_schemas"),
    ("/Schemas", WRITES, "method_not_allowed"),
    ("/Schemas/{schema_id}", ["GET"], "get_schema"),
    ("/Schemas/{schema_id}", WRITES, "method_not_allowed"),
    ("/.search", ["POST"], "search_everything"),
    ("/Users", ["GET"], "list_users"),
    ("/Users", ["POST"], "create_user"),
    ("/Users/.search", ["POST"], "search_users"),
    ("/Users/{user_id}", ["GET"], "get_user"),
    ("/Users/{user_id}", ["PUT"], "replace_user"),
    ("/Users/{user_id}", ["PATCH"], "patch_user"),
    ("/Users/{user_id}", ["DELETE"], "delete_user"),
    ("/Groups", ["GET"], "list_groups"),
    ("/Groups", ["POST"], "create_group"),
    ("/Groups/.search", ["POST"], "search_groups"),
    ("/Groups/{group_id}", ["GET"], "get_group"),
    ("/Groups/{group_id}", ["PUT"], "replace_group"),
    ("/Groups/{group_id}", ["PATCH"], "patch_group"),
    ("/Groups/{group_id}", ["DELETE"], "delete_group"),
    ("/{unknown}", ["GET", *WRITES], "not_found"),
]

for _path, _methods, _handler in ROUTES:
    _route(_path, _methods, _handler)

"""Routes registered by name, their modules imported by the first request that needs them.

Why: every Lambda function of this app loads ``app.py``, and importing every
route module at once (pydantic, the request and response models, the
services, the console) cost the API about twice a bare Chalice app's cold
start. Here ``app.py`` registers each route from ``route_table.ROUTES`` (the
committed list of paths, methods and the module that serves them) with a
small proxy view; a route's module, and only its module with what it imports,
loads when a request first reaches one of its routes.

The route modules stay ordinary Chalice blueprints: a module imported here is
registered onto a ``_Collector``, a Chalice app that is never called but
whose current request is the real app's, and the proxy calls the view the
blueprint registered there. ``route_table`` is generated from the modules
(``python deploy/build_route_table.py``); a test and ``make lint`` fail when
it no longer matches them.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

from chalice import Chalice
from chalice.app import Request, Response

# Every module that declares routes (a Chalice blueprint named ``bp``), in registration order.
ROUTE_MODULES: tuple[str, ...] = (
    "chalicelib.http.routes_accounts",
    "chalicelib.http.routes_orgs",
    "chalicelib.http.routes_members",
    "chalicelib.http.routes_seats",
    "chalicelib.http.routes_tokens",
    "chalicelib.http.routes_invitations",
    "chalicelib.http.routes_audit",
    "chalicelib.http.routes_scim_tokens",
    "chalicelib.http.routes_service_accounts",
    "chalicelib.http.routes_oauth",
    "chalicelib.http.routes_domains",
    "chalicelib.http.routes_group_mappings",
    "chalicelib.scim.routes",
    "chalicelib.http.routes_docs",
    "chalicelib.console.routes_signin",
    "chalicelib.console.routes_home",
    "chalicelib.console.routes_invitation",
    "chalicelib.console.routes_tokens",
    "chalicelib.console.routes_invitations_admin",
    "chalicelib.console.routes_users",
    "chalicelib.console.routes_audit",
    "chalicelib.console.routes_settings",
    "chalicelib.console.routes_static",
)

# One route as the table records it: (module, path, method, content types, view name).
RouteRow = tuple[str, str, str, tuple[str, ...], str]
View = Callable[..., Any]


class _Collector(Chalice):
    """Holds one blueprint's views; its current request and Lambda context are the real app's."""

    def __init__(self, app: Chalice) -> None:
        self._app = app
        super().__init__(app_name=app.app_name, configure_logs=False)

    @property
    def current_request(self) -> Request | None:
        return self._app.current_request

    @current_request.setter
    def current_request(self, value: Request | None) -> None:
        """Chalice sets it only on the app it calls, which is never this one."""

    @property
    def lambda_context(self) -> Any:
        return self._app.lambda_context

    @lambda_context.setter
    def lambda_context(self, value: Any) -> None:
        """As for ``current_request``."""


def collect(module_name: str, app: Chalice) -> Chalice:
    """Import a route module and register its blueprint onto a collector for ``app``."""
    module = importlib.import_module(module_name)
    collector = _Collector(app)
    collector.register_blueprint(module.bp)
    return collector


class _Views:
    """Each route module's views, loaded once per process on first use (thread-safe: the local stack serves
    requests on threads)."""

    def __init__(self, app: Chalice) -> None:
        self._app = app
        self._by_module: dict[str, dict[tuple[str, str], View]] = {}
        self._lock = threading.Lock()

    def view(self, module_name: str, path: str, method: str) -> View:
        views = self._by_module.get(module_name)
        if views is None:
            with self._lock:
                views = self._by_module.get(module_name)
                if views is None:
                    collector = collect(module_name, self._app)
                    views = {
                        (route_path, route_method): entry.view_function
                        for route_path, methods in collector.routes.items()
                        for route_method, entry in methods.items()
                    }
                    self._by_module[module_name] = views
        return views[(path, method)]


def register(app: Chalice, rows: Iterable[RouteRow]) -> None:
    """Register every route of the table on ``app`` with a proxy view."""
    views = _Views(app)
    for module_name, path, method, content_types, name in rows:
        proxy = _proxy(views, module_name, path, method)
        proxy.__name__ = proxy.__qualname__ = name
        app.route(path, methods=[method], content_types=list(content_types))(proxy)


def _proxy(views: _Views, module_name: str, path: str, method: str) -> View:
    def view(**path_params: str) -> Any:
        return views.view(module_name, path, method)(**path_params)

    return view


def import_all() -> None:
    """Import every route module (the OpenAPI document and the tests read what they declare)."""
    for module_name in ROUTE_MODULES:
        importlib.import_module(module_name)


class _Routed(Protocol):
    @property
    def path(self) -> str: ...

    @property
    def method(self) -> str: ...


R = TypeVar("R", bound=_Routed)


def in_table_order(specs: Iterable[R]) -> list[R]:
    """Route specs in the route table's order, not in the order requests happened to import their
    modules: what is built from them (the OpenAPI document, the template's WAF rule) is the same in
    every process."""
    from .route_table import ROUTES

    position = {(path, method): n for n, (_, path, method, _, _) in enumerate(ROUTES)}
    return sorted(specs, key=lambda spec: position.get((spec.path, spec.method), len(position)))


def envelope_framework_errors(event: Request, get_response: Callable[[Request], Response]) -> Response:
    """The HTTP middleware of ``http.framework``, imported when the first request arrives."""
    from .http.framework import envelope_framework_errors as middleware

    return middleware(event, get_response)

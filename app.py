"""The Chalice app: creation and blueprint registration only."""

from chalice import Chalice

from chalicelib.events import schedules, streams
from chalicelib.http import routes_accounts, routes_audit, routes_members, routes_orgs, routes_scim_tokens
from chalicelib.scim import routes as scim_routes

app = Chalice(app_name="orgmembers")

for blueprint in (
    routes_accounts.bp,
    routes_orgs.bp,
    routes_members.bp,
    routes_audit.bp,
    routes_scim_tokens.bp,
    scim_routes.bp,
    streams.bp,
    schedules.bp,
):
    app.register_blueprint(blueprint)

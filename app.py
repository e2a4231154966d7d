"""The Chalice app: creation and blueprint registration only."""

from chalice import Chalice

from chalicelib.console import (
    routes_audit as console_audit,
)
from chalicelib.console import (
    routes_home,
    routes_invitation,
    routes_invitations_admin,
    routes_settings,
    routes_signin,
    routes_static,
    routes_users,
)
from chalicelib.console import routes_tokens as console_tokens
from chalicelib.events import schedules, streams
from chalicelib.http import (
    framework,
    routes_accounts,
    routes_audit,
    routes_docs,
    routes_domains,
    routes_group_mappings,
    routes_invitations,
    routes_members,
    routes_oauth,
    routes_orgs,
    routes_scim_tokens,
    routes_seats,
    routes_service_accounts,
    routes_tokens,
)
from chalicelib.scim import routes as scim_routes

# configure_logs=False: chalice's own log lines go to the root logger, which Lambda's
# JSON log format handles (request id on every line), not to a plain-text handler.
app = Chalice(app_name="orgmembers", configure_logs=False)
# CSV uploads reach us as exact bytes (API Gateway would otherwise re-encode non-UTF-8 input).
app.api.binary_types.append("text/csv")
app.api.binary_types.append("multipart/form-data")  # the console's CSV upload, bytes as sent
# Chalice's own 405/415 answers in the API's error envelope.
app.register_middleware(framework.envelope_framework_errors, "http")

for blueprint in (
    routes_accounts.bp,
    routes_orgs.bp,
    routes_members.bp,
    routes_seats.bp,
    routes_tokens.bp,
    routes_invitations.bp,
    routes_audit.bp,
    routes_scim_tokens.bp,
    routes_service_accounts.bp,
    routes_oauth.bp,
    routes_domains.bp,
    routes_group_mappings.bp,
    scim_routes.bp,
    routes_docs.bp,
    routes_signin.bp,
    routes_home.bp,
    routes_invitation.bp,
    console_tokens.bp,
    routes_invitations_admin.bp,
    routes_users.bp,
    console_audit.bp,
    routes_settings.bp,
    routes_static.bp,
    streams.bp,
    schedules.bp,
):
    app.register_blueprint(blueprint)

"""The Chalice app: creation and registration only.

Routes come from ``chalicelib.route_table`` and load their modules on first
use (``chalicelib.lazy_routes``): importing this file, which every Lambda
function of the app does, costs little more than Chalice itself.
"""

from chalice import Chalice

from chalicelib import lazy_routes
from chalicelib.events import schedules, streams
from chalicelib.route_table import ROUTES

# configure_logs=False: chalice's own log lines go to the root logger, which Lambda's
# JSON log format handles (request id on every line), not to a plain-text handler.
app = Chalice(app_name="orgmembers", configure_logs=False)
# CSV uploads reach us as exact bytes (API Gateway would otherwise re-encode non-UTF-8 input).
app.api.binary_types.append("text/csv")
app.api.binary_types.append("multipart/form-data")  # the console's CSV upload, bytes as sent
# Chalice's own 405/415 answers in the API's error envelope.
app.register_middleware(lazy_routes.envelope_framework_errors, "http")

lazy_routes.register(app, ROUTES)
app.register_blueprint(streams.bp)
app.register_blueprint(schedules.bp)

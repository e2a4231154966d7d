"""Every API operation the SDK calls, as data: method, path template, the query and body fields it may send.

The client refuses to send a field an operation does not list, and the test
suite checks each entry against the app's ``/openapi.json``
(tests/integration/test_sdk_openapi.py), so the SDK cannot drift from the document.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    query: tuple[str, ...] = ()
    body: tuple[str, ...] = ()
    # POSTs the API documents as safe to repeat after a 503 (bulk calls report committed items as already_*).
    repeat_safe: bool = False
    body_type: str = "application/json"


PAGE = ("limit", "cursor")

ME = Operation("GET", "/v1/me")
HEALTH = Operation("GET", "/v1/health")
LOGIN_LINK = Operation("POST", "/v1/auth/login-link", body=("email",), repeat_safe=True)
REDEEM_LOGIN_LINK = Operation("POST", "/v1/auth/login-link/redeem", body=("code",))

GET_ORG = Operation("GET", "/v1/orgs/{org_id}")
CREATE_ORG = Operation("POST", "/v1/orgs", body=("name",))
SET_CAPACITY = Operation("PUT", "/v1/orgs/{org_id}/seats", body=("capacity",))

INVITE = Operation("POST", "/v1/orgs/{org_id}/invitations", body=("emails", "role"), repeat_safe=True)
LIST_INVITATIONS = Operation("GET", "/v1/orgs/{org_id}/invitations", query=(*PAGE, "status"))
RESEND_INVITATIONS = Operation(
    "POST", "/v1/orgs/{org_id}/invitations/resend", body=("invitation_ids",), repeat_safe=True
)
REMOVE_INVITATIONS = Operation(
    "POST", "/v1/orgs/{org_id}/invitations/remove", body=("invitation_ids",), repeat_safe=True
)
RESEND_INVITATION = Operation("POST", "/v1/orgs/{org_id}/invitations/{invitation_id}/resend")

LIST_MEMBERS = Operation("GET", "/v1/orgs/{org_id}/members", query=(*PAGE, "role", "seat", "email_prefix"))
ADD_MEMBER = Operation("POST", "/v1/orgs/{org_id}/members", body=("email", "role", "assign_seat"), repeat_safe=True)
GET_MEMBER = Operation("GET", "/v1/orgs/{org_id}/members/{account_id}")
ONBOARD = Operation(
    "POST", "/v1/orgs/{org_id}/members/onboard", body=("emails", "role", "issue_token"), repeat_safe=True
)

ASSIGN_SEATS = Operation("POST", "/v1/orgs/{org_id}/seats/assign", body=("account_ids", "notify"), repeat_safe=True)
REVOKE_SEATS = Operation("POST", "/v1/orgs/{org_id}/seats/revoke", body=("account_ids",), repeat_safe=True)

ISSUE_OWN_TOKEN = Operation("POST", "/v1/orgs/{org_id}/tokens", body=("name", "expires_at"))
LIST_OWN_TOKENS = Operation("GET", "/v1/orgs/{org_id}/tokens", query=PAGE)
REVOKE_OWN_TOKEN = Operation("DELETE", "/v1/orgs/{org_id}/tokens/{token_id}")
ISSUE_MEMBER_TOKEN = Operation("POST", "/v1/orgs/{org_id}/members/{account_id}/tokens", body=("name", "expires_at"))
LIST_MEMBER_TOKENS = Operation("GET", "/v1/orgs/{org_id}/members/{account_id}/tokens", query=PAGE)
REVOKE_MEMBER_TOKEN = Operation("DELETE", "/v1/orgs/{org_id}/members/{account_id}/tokens/{token_id}")
VERIFY_TOKEN = Operation("POST", "/v1/tokens/verify", body=("token", "org_id"), repeat_safe=True)

AUDIT_LOG = Operation("GET", "/v1/orgs/{org_id}/audit-log", query=(*PAGE, "action", "actor", "target", "since"))

OPERATIONS: tuple[Operation, ...] = tuple(v for v in dict(globals()).values() if isinstance(v, Operation))

# Request limits of the API (its schemas' maxItems): bulk calls are chunked under them.
INVITE_MAX = 1000
INVITATION_IDS_MAX = 1000
ONBOARD_MAX = 500
SEATS_MAX = 500
# Rows per onboard request the CLI sends: each row is two transactions, so 100 rows is a few
# seconds even on DynamoDB Local (about 9 s there), well inside API Gateway's 29 s; 500 was not.
ONBOARD_CHUNK = 100

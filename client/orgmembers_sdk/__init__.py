"""A typed Python client for the orgmembers JSON API (``/v1``), over httpx.

>>> from orgmembers_sdk import Client
>>> with Client("http://127.0.0.1:8000", api_key="oak_...") as om:
...     for member in om.iter_members(org_id, seat=True):
...         print(member["email"])
"""

from .auth import ApiKeyAuth, ClientCredentialsAuth
from .client import Client, RetryPolicy
from .errors import ApiError, AuthError, NetworkError, OrgMembersError
from .operations import OPERATIONS, Operation

__all__ = [
    "OPERATIONS",
    "ApiError",
    "ApiKeyAuth",
    "AuthError",
    "Client",
    "ClientCredentialsAuth",
    "NetworkError",
    "Operation",
    "OrgMembersError",
    "RetryPolicy",
]

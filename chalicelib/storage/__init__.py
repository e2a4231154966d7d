"""DynamoDB storage: one module per table holding its pynamodb model, key helpers and queries.

``base`` is the shared plumbing: binding models to a stage, transactions
(``Tx``, items declaring what their failure means), race retries, consistent
raw reads, one-time flags, and cursor paging (``cursor_page``: every
cursor-paged list decodes and refuses cursors there); ``bulk`` the
conditional bulk engine and batch puts.

A table module is its repository when services reach the table only through
its functions, which take and return domain objects. These are:
``tokens`` (``domain.tokens.StoredToken``; API keys, access tokens and SCIM
tokens, the cascades included), ``audit`` (``domain.models.AuditEntry``),
``domains`` (``domain.domains.DomainClaim``), ``service_accounts``
(``domain.service_accounts``: accounts, their granted tokens, the maker's
``Standing``), ``accounts`` (``domain.models.Account``), ``sessions``
(``domain.sessions``: console sessions, sign-in requests, form once-markers)
and ``quotas`` (counters by id). ``orgs`` serves the org's own reads and
changes (``domain.models.Organization``), while the member and seat
services still move its counters themselves; ``members`` decodes stream
images (``domain.models.MemberImage``) and claims seat notices. Members,
Invitations and Groups are on the way there: their services still hold
pynamodb items they got from these modules.
"""

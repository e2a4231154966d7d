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
(``domain.sessions``: console sessions, sign-in requests, form once-markers),
``quotas`` (counters by id), ``invitations`` (``domain.invitations.StoredInvitation``:
the (org, email) slots, their issues, links' nonces and email sends),
``members`` (``domain.models.Member``; stream images as
``domain.models.MemberImage``, seat notices), ``groups``
(``domain.groups.StoredGroup``: pushed groups, their name claims and
membership items) and ``orgs`` (``domain.models.Organization``; the
counters move by ``count_in`` inside the member, seat and group changes'
transactions). ``scim_pages`` pages an org's members and group names by
offset for SCIM (``scim_cursors`` remembers where a page ended). No service,
SCIM or HTTP module imports a pynamodb model.
"""

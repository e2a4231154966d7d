"""DynamoDB storage: one module per table holding its pynamodb model and key helpers.

``base`` is the shared plumbing: binding models to a stage, transactions
(``Tx``), race retries, and cursor paging (``cursor_page``: every
cursor-paged list decodes and refuses cursors there). Services still read
and write most models directly; repositories returning domain objects are
not in place yet.
"""

"""Use cases, one module per capability. Handlers call these; these call storage and mail."""

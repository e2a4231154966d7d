"""SCIM 2.0 service provider (RFC 7643 / 7644): a SCIM User is a member of the token's org.

Kept apart from the REST API: its own error schema and content type, and
scim2-models is imported only by the modules here that SCIM routes call.
"""

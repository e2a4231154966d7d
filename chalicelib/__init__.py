"""Deployed code of the organization member-management service."""

"""Plain domain: models, roles, permissions and errors. No AWS imports here."""

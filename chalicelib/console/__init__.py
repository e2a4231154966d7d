"""The web console: server-rendered pages for people, a client of the services like ``http/``.

Jinja2 is imported on the first page render, never on the JSON API's path.
"""

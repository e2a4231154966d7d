"""Stream and schedule handlers: decode the event, call a service, nothing more."""

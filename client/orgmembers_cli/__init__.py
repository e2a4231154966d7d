"""``orgmembers``: the command line for organization admins, on the orgmembers SDK."""

"""Authentication (signed JWT bearer tokens) and role-based authorisation."""

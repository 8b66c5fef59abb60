"""Connections: OAuth for every platform, token storage, refresh, expiry warnings, reconnect."""

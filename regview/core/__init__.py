"""The registry client: httpx + spec, never Qt, keyring or the embedded server."""

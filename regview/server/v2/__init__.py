"""The distribution API (`/v2/`) over the store: the Starlette app and its routes."""

"""The embedded registry: spec + Starlette/uvicorn + SQLite. Never imports core, settings or ui."""

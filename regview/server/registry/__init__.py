"""The embedded registry's store: blobs on disk, metadata in SQLite, garbage collection."""

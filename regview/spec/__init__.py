"""OCI vocabulary: digests, references, media types, manifests, error codes. Standard library only."""

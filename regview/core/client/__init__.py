"""The registry client: HTTP transport, auth, listing, manifests, blobs, writes."""

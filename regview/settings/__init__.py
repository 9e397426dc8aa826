"""Registry profiles and secrets (keyring), credential import. No Qt."""

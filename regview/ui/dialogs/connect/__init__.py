"""Add or edit a registry: the form, probing the address, testing the credential."""

"""The command line over core/ and server/."""

"""Small helpers every layer shares, standard library only: atomic file writes, loopback
addresses, sizes in words. One of each, so the layers cannot drift apart."""

"""regview: browse and safely prune container image registries."""

__version__ = "0.1.0"

"""Dialogs and the flows they run."""

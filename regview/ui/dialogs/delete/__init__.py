"""Deleting from the window: plan, confirm, progress, results, resume."""

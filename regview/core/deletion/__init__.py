"""Deleting safely: the planner (pure), the executor and its read-back, resume and fallbacks."""

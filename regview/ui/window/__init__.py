"""The main window: its frame, the binding of views to registries, and its actions."""

"""The deletion journal: what was deleted, restorable, written before each change."""

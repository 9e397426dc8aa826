"""The credential's doubt before a delete plan lives in `regview.services.deletion_doubt` (the
command line says it too); re-exported here for the app's callers."""

from __future__ import annotations

from regview.services.deletion_doubt import credential_warning, with_credential_warning

__all__ = ["credential_warning", "with_credential_warning"]

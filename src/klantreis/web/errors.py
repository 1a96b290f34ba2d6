"""Errors to HTTP statuses: the only place that does so (see klantreis.errors).

========================================  ======
KlantreisError                            status
========================================  ======
UploadTooLarge                            413
JourneyInvalid                            422
WorkspaceLocked                           409
WorkspaceNotFound, UnknownKey             404
RenderError (not a user mistake)          500
any other (InvalidSpec, DataError, ...)   400
========================================  ======
"""

from __future__ import annotations

from klantreis.errors import (
    DataError,
    JourneyInvalid,
    KlantreisError,
    RenderError,
    UnknownKey,
    WorkspaceLocked,
    WorkspaceNotFound,
)

__all__ = ["UploadTooLarge", "status_for"]


class UploadTooLarge(DataError):
    """An uploaded file is larger than the app's limit."""

    code = "data.upload_too_large"


def status_for(exc: KlantreisError) -> int:
    """The HTTP status of an error (table in the module docstring)."""
    if isinstance(exc, UploadTooLarge):
        return 413
    if isinstance(exc, JourneyInvalid):
        return 422
    if isinstance(exc, WorkspaceLocked):
        return 409
    if isinstance(exc, WorkspaceNotFound | UnknownKey):
        return 404
    if isinstance(exc, RenderError):
        return 500
    return 400

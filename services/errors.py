"""Errors a service raises for the caller to show (translated by the front-end from ``code``)."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """A user-facing failure: ``code`` is a stable key front-ends translate, ``params`` fill its text.

    ``str(error)`` is the English message, for the CLI and logs.
    """

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(message)
        self.code = code
        self.params = params


class NotAllowedError(ServiceError):
    """The caller's role or district scope does not permit the operation (checked on the server)."""

    def __init__(self, operation: str, role: str | None) -> None:
        super().__init__("not_allowed", f"role {role or '(none)'} may not {operation}", operation=operation)

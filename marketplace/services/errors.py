"""Errors that services raise and views turn into form errors or status codes."""

from __future__ import annotations


class DomainError(Exception):
    """A rule of the product refused the action; `field` names the form field it belongs to."""

    status_code = 422

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class PermissionDenied(DomainError):
    status_code = 403

    def __init__(self, message: str = "You are not allowed to do that.") -> None:
        super().__init__(message)


class NotFound(DomainError):
    status_code = 404

    def __init__(self, message: str = "Not found.") -> None:
        super().__init__(message)


class WrongPassword(DomainError):
    """The member's own password, asked again to confirm an action, was not right (counted
    against PASSWORD_CHECK_RATE_LIMIT)."""


class Unavailable(DomainError):
    """Something the action needs (photo storage, decoding capacity) is failing or busy right
    now: nothing was saved, and the same request may succeed later (503)."""

    status_code = 503


class InvalidToken(DomainError):
    """A link from an email is expired, tampered with or already used."""

    status_code = 400

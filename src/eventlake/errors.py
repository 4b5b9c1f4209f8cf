"""Errors a user can fix. The CLI prints them as one line and exits non-zero (no traceback)."""


class UserError(Exception):
    """A mistake in input, arguments or configuration, explained in one sentence."""

    exit_code = 2


class QualityGateFailed(UserError):
    """A critical data-quality expectation failed; nothing downstream of it ran."""

    exit_code = 3

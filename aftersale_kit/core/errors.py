"""The project's error types. Every foreign exception is translated into one of these at a seam.

::

    AftersaleKitError
    ├── ConfigError               a shop owner's file is wrong; .problems lists every mistake
    ├── ConditionError            a condition text does not parse or type-check
    │   ├── ConditionSyntaxError
    │   └── ConditionTypeError
    ├── PayloadError              a platform payload is not what it should be (names the field)
    ├── WebhookError              an incoming webhook is refused
    │   ├── SignatureError        missing or wrong signature header
    │   ├── MalformedWebhookError body is not JSON / not the shape of its topic
    │   └── UnknownTopicError     a topic the product does not handle
    ├── PlatformError             a call to the platform failed
    │   ├── NotAuthorizedError    401/403: token or key wrong, revoked, or missing scope
    │   ├── NotFoundError         404 or an empty lookup
    │   ├── RateLimitedError      429 or THROTTLED; .retry_after in seconds
    │   ├── PlatformUnavailableError  5xx, timeouts, connection errors
    │   └── InvalidRequestError   4xx or userErrors with the platform's own message
    ├── StorageError              database unreachable, statement refused, or URL wrong
    └── MissingExtraError         an optional dependency is not installed; names the pip command

Messages never contain secrets.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "AftersaleKitError",
    "ConditionError",
    "ConditionSyntaxError",
    "ConditionTypeError",
    "ConfigError",
    "ConfigProblem",
    "InvalidRequestError",
    "MalformedWebhookError",
    "MissingExtraError",
    "NotAuthorizedError",
    "NotFoundError",
    "PayloadError",
    "PlatformError",
    "PlatformUnavailableError",
    "RateLimitedError",
    "SignatureError",
    "StorageError",
    "UnknownTopicError",
    "UnusableOrderError",
    "WebhookError",
]


class AftersaleKitError(Exception):
    """Base of every error this project raises on purpose."""


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One mistake in a config file: ``file:line:col: path: message``."""

    file: str
    line: int
    column: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}"
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(AftersaleKitError):
    """A config file has one or more mistakes; all of them are in :attr:`problems`."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConditionError(AftersaleKitError):
    """A condition text is wrong. ``column`` is the 0-based offset into the text."""

    def __init__(self, message: str, *, column: int = 0, suggestion: str | None = None) -> None:
        self.message = message
        self.column = column
        self.suggestion = suggestion
        text = message if suggestion is None else f"{message} (did you mean {suggestion!r}?)"
        super().__init__(text)


class ConditionSyntaxError(ConditionError):
    pass


class ConditionTypeError(ConditionError):
    pass


class PayloadError(AftersaleKitError):
    """A platform payload is not an order (or lacks a required field); names the field."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class WebhookError(AftersaleKitError):
    """An incoming webhook was refused."""


class SignatureError(WebhookError):
    pass


class MalformedWebhookError(WebhookError):
    pass


class UnusableOrderError(MalformedWebhookError):
    """A correctly signed delivery on an order topic whose body is JSON but not an order this
    version can read (a field missing or of another type). The service quarantines it (answered
    200, kept with this message, replayable) instead of refusing it: the platform would retry
    and finally drop the subscription, and a newer version may read the shape."""


class UnknownTopicError(WebhookError):
    pass


class PlatformError(AftersaleKitError):
    """A platform call failed. ``platform`` names it; ``status`` is the HTTP status if any."""

    def __init__(self, message: str, *, platform: str, status: int | None = None) -> None:
        self.platform = platform
        self.status = status
        super().__init__(message)


class NotAuthorizedError(PlatformError):
    pass


class NotFoundError(PlatformError):
    pass


class RateLimitedError(PlatformError):
    def __init__(
        self, message: str, *, platform: str, retry_after: float, status: int | None = 429
    ) -> None:
        self.retry_after = retry_after
        super().__init__(message, platform=platform, status=status)


class PlatformUnavailableError(PlatformError):
    pass


class InvalidRequestError(PlatformError):
    """The platform refused the request; ``code`` is its own error code if it sent one."""

    def __init__(
        self, message: str, *, platform: str, status: int | None = 400, code: str | None = None
    ) -> None:
        self.code = code
        super().__init__(message, platform=platform, status=status)


class StorageError(AftersaleKitError):
    """The database could not be reached or refused a statement, or its URL is wrong.

    The message names the database with its password hidden.
    """


class MissingExtraError(AftersaleKitError, ImportError):
    """An optional dependency is missing; the message names the exact install command."""

    def __init__(self, what: str, extra: str) -> None:
        self.extra = extra
        super().__init__(
            f"{what} needs an optional dependency: pip install 'aftersale-kit[{extra}]'"
        )

"""What went wrong with a model call, in the terms the run engine acts on."""

from __future__ import annotations


class ProviderCallError(Exception):
    """Base: ``message`` is safe to show (keys are redacted before it is built)."""


class AuthFailed(ProviderCallError):
    """The key was rejected (401/403): stop this provider at once."""


class Retryable(ProviderCallError):
    """429, 5xx, timeouts, dropped connections, malformed responses: try again later."""

    def __init__(self, message: str, retry_after: float | None = None, unreachable: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.unreachable = (
            unreachable  # no answer at all (connection failed, timed out): the circuit breaker counts these
        )


class RequestRejected(ProviderCallError):
    """The request itself is wrong (400, unknown model): retrying cannot help."""


class ContentRefused(ProviderCallError):
    """A content-policy refusal by the API (not by the model's words): recorded as a refusal."""

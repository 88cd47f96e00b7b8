"""Typed provider failures, so the Slack layer can answer each in plain words.

    ProviderError                 anything a provider could not do
     ├── ProviderAuthError        credentials missing, wrong, expired or revoked
     ├── ProviderNotFound         the person, request or resource does not exist
     ├── ProviderRejected         the HR system refused, with its own message
     ├── ProviderRateLimited      too many calls; ``retry_after`` seconds to wait
     ├── ProviderUnavailable      unreachable, timing out, or answering 5xx
     └── ProviderResponseError    answered, but not JSON or in a shape leavebot does not know

Which failure becomes which, in ``HttpProvider._json`` (through ``_request``; only ``_send`` catches httpx):

    connection refused, DNS, reset   ProviderUnavailable
    timeout                          ProviderUnavailable
    3xx, 401, 403                    ProviderAuthError
    404                              ProviderNotFound
    429 (Retry-After kept)           ProviderRateLimited, after short waits are retried
    other 4xx                        ProviderRejected, in the provider's words
    5xx                              ProviderUnavailable
    bad JSON, unknown shape          ProviderResponseError

Messages never carry a secret: only the provider's name and what went wrong.
"""

from __future__ import annotations


class ProviderError(Exception):
    """Base of every provider failure."""

    def __init__(self, message: str, *, provider: str = "") -> None:
        super().__init__(message)
        self.provider = provider
        self.message = message


class ProviderAuthError(ProviderError):
    """The credentials are missing, wrong, expired or revoked."""


class ProviderNotFound(ProviderError):
    """The thing asked for does not exist at the provider."""


class ProviderRejected(ProviderError):
    """The provider refused the request; ``message`` is its own explanation."""


class ProviderRateLimited(ProviderError):
    """The provider asked us to slow down."""

    def __init__(self, message: str, *, provider: str = "", retry_after: float | None = None) -> None:
        super().__init__(message, provider=provider)
        self.retry_after = retry_after


class ProviderUnavailable(ProviderError):
    """The provider is down, slow, or answering with server errors."""


class ProviderResponseError(ProviderError):
    """The provider answered, but with something that is not JSON or not in a shape leavebot knows."""

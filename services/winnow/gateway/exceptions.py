"""Errors of the gateway package."""

from winnow.errors import WinnowError


class GatewayError(WinnowError):
    """The gateway refused to start or to serve a request."""


class ApiKeyError(GatewayError):
    """An API key operation failed (unknown key id, bad scopes)."""

"""The root of Winnow's exceptions; each subpackage adds its own in its ``exceptions`` module."""


class WinnowError(Exception):
    """Base class for every error Winnow raises on purpose."""


class ConfigurationError(WinnowError):
    """A setting is missing, malformed or refers to something that does not exist."""


class BrokerError(WinnowError):
    """The Kafka-protocol broker could not be started, reached or administered."""


class StoreError(WinnowError):
    """The retraining store refused an operation."""

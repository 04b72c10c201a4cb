"""The root of credbank's exception tree and the key store's own errors.

Every error the project raises on purpose derives from `CredbankError`, so that the
HTTP layer and the command line can turn it into a problem detail or a one-line message
without ever showing a stack trace.
"""


class CredbankError(Exception):
    """Root of every error credbank raises deliberately."""


class ConfigError(CredbankError):
    """The configuration (environment or files) is missing or malformed."""


class DatabaseNotReadyError(CredbankError):
    """The database schema is missing or older than this code."""


class KeyStoreError(CredbankError):
    """A key cannot be created, found or used."""


class MasterKeyError(KeyStoreError):
    """The master key is missing, malformed, or does not open the key store."""


class KeyStateError(KeyStoreError):
    """A key was asked to sign although it is retired or compromised."""

    def __init__(self, key_id: str, state: str) -> None:
        super().__init__(f"key {key_id} is {state}; expected an active key")
        self.key_id = key_id
        self.state = state

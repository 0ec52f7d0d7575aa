"""User-facing errors: the CLI prints their one-line message and exits 2."""


class UserError(ValueError):
    """Bad input from a user (spec, network file, argument). The message names the
    field, the value and what is allowed.

    Library code names its own fields (a TrainConfig field, a function's argument), never
    a command-line flag: `field` says which one the message starts with, and the CLI puts
    the option that sets it in its place (codesign.cli.main)."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.field = field

"""User-facing errors: the CLI prints their one-line message and exits 2."""


class UserError(ValueError):
    """Bad input from a user (spec, network file, argument). The message names the
    field, the value and what is allowed."""

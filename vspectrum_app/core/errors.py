"""The error every part raises when its message is the whole story for the user."""


class UserError(Exception):
    """An error whose message is the whole story for the user (no traceback)."""

"""The one exception the parsers raise."""


class ParseError(ValueError):
    """Text that does not have the shape a parser expects.

    raw keeps the offending text so the app can show it instead of a traceback.
    """

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw

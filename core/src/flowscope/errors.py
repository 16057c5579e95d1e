"""The one exception users see. The CLI prints it as a single ``error:`` line and exits non-zero."""

from __future__ import annotations


class UserError(Exception):
    """An expected problem with input, configuration or environment; never shown with a traceback."""

    def __init__(self, message: str, path: str | None = None, line: int | None = None) -> None:
        self.message = message
        self.path = path
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        return where + self.message

"""Errors of the confirmation content: templates that do not load or do not render."""

from __future__ import annotations

from aftersale_kit.core.errors import AftersaleKitError

__all__ = ["ContentError", "TemplateLoadError", "TemplateRenderError"]


class ContentError(AftersaleKitError):
    """Confirmation content could not be built; the message names the block and what to fix."""


class TemplateLoadError(ContentError):
    """A template is missing or does not compile. ``file`` and ``line`` say where (line 0: none)."""

    def __init__(self, message: str, *, file: str, line: int = 0) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file}:{line}" if line else file
        super().__init__(f"{where}: {message}")


class TemplateRenderError(ContentError):
    """A template failed while rendering (e.g. an override used a variable that does not exist)."""

    def __init__(self, message: str, *, template: str, file: str | None, line: int = 0) -> None:
        self.template = template
        self.file = file
        self.line = line
        self.message = message
        where = file or template
        where = f"{where}:{line}" if line else where
        super().__init__(f"{where}: {message}")

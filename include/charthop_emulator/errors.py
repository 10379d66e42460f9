"""The error response shared by the API modules."""

from __future__ import annotations


class ApiError(Exception):
    """An error response: HTTP status plus the ChartHop error body ``{"code", "message"}``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}

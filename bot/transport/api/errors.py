"""An answer of the API other than success: its status and the one error shape."""

from __future__ import annotations

from bot.transport.api.schemas import ErrorDetail


class ApiError(Exception):
    """Answered as ``status`` with ``{"error": {"id", "message", "field"}}``."""

    def __init__(self, status: int, error_id: str, message: str, field: str = "") -> None:
        super().__init__(error_id)
        self.status = status
        self.error = ErrorDetail(id=error_id, message=message, field=field)

"""WordPress REST errors (``WP_Error``) as the sandbox raises and serialises them.

The body is ``{"code", "message", "data": {"status", ...}}``. Messages are WooCommerce's and
WordPress's own (English locale); their sources are cited where they are raised.
"""

from __future__ import annotations

from typing import Any

__all__ = ["RestError", "invalid_id", "invalid_params", "missing_params"]


class RestError(Exception):
    """A ``WP_Error`` on its way to becoming an HTTP response."""

    def __init__(self, code: str, message: str, status: int, **data: Any) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.data = data

    def body(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "data": self.as_data()}

    def as_data(self) -> dict[str, Any]:
        return {"status": self.status, **self.data}


def invalid_id(post_type: str, status: int = 404) -> RestError:
    """``woocommerce_rest_{post_type}_invalid_id`` "Invalid ID." (WC_REST_CRUD_Controller)."""
    return RestError(f"woocommerce_rest_{post_type}_invalid_id", "Invalid ID.", status)


def invalid_params(problems: dict[str, str]) -> RestError:
    """WordPress ``rest_invalid_param``: every invalid parameter named, in registration order."""
    return RestError(
        "rest_invalid_param",
        "Invalid parameter(s): " + ", ".join(problems),
        400,
        params=dict(problems),
    )


def missing_params(names: list[str]) -> RestError:
    """WordPress ``rest_missing_callback_param`` for required arguments that were not sent."""
    return RestError(
        "rest_missing_callback_param",
        "Missing parameter(s): " + ", ".join(names),
        400,
        params=list(names),
    )

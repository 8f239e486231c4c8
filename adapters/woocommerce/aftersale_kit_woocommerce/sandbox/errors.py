"""WordPress REST errors (``WP_Error``) as the sandbox raises and serialises them.

The body is ``{"code", "message", "data": {"status", ...}}``. Messages are WooCommerce's and
WordPress's own (English locale); their sources are cited where they are raised.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "RestError",
    "already_exists",
    "already_trashed",
    "invalid_id",
    "invalid_params",
    "missing_params",
    "trash_not_supported",
]


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


def already_exists(post_type: str) -> RestError:
    """Creating with an ``id`` in the body (``WC_REST_CRUD_Controller::create_item``)."""
    return RestError(
        f"woocommerce_rest_{post_type}_exists", f"Cannot create existing {post_type}.", 400
    )


def already_trashed(post_type: str) -> RestError:
    """Trashing what is in the trash already (``WC_REST_CRUD_Controller::delete_item``)."""
    return RestError(
        "woocommerce_rest_already_trashed", f"The {post_type} has already been deleted.", 410
    )


def trash_not_supported(message: str = "Webhooks do not support trashing.") -> RestError:
    """501 for a delete without ``force`` where there is no trash. The webhooks controller's
    message is the default; the order notes controller reuses it (unverified)."""
    return RestError("woocommerce_rest_trash_not_supported", message, 501)


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

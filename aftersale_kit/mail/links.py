"""The signed links a follow-up e-mail carries, under the service's public address.

The paths are the contract with the routes that will serve them (``serve``):

* ``/v1/unsubscribe/<token>``: GET shows a page with a button; POST with the body
  ``List-Unsubscribe=One-Click`` unsubscribes at once (RFC 8058, section 3.1).
* ``/v1/survey/<token>?rating=N``: one token per survey e-mail; the rating is the customer's
  choice and needs no signature, the token says which order and shop it is about.
* ``/v1/newsletter/confirm/<token>``: the double opt-in confirmation.
* ``/v1/newsletter/signup/<token>``: the one-click signup (sends the confirmation e-mail).
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote, urlsplit

from aftersale_kit.core.mail_settings import LOOPBACK_HOSTS

from .errors import MailError
from .tokens import LinkSigner, Purpose

__all__ = ["MailLinks"]

UNSUBSCRIBE_DAYS = 365
SURVEY_DAYS = 30
NEWSLETTER_DAYS = 7
SIGNUP_DAYS = 90


class MailLinks:
    """Builds the signed links; ``public_url`` is the service's address as customers reach it
    (https; plain http only for 127.0.0.1 or localhost, as in tests)."""

    def __init__(self, signer: LinkSigner, public_url: str) -> None:
        parts = urlsplit(public_url)
        loopback = parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS
        if not (parts.scheme == "https" or loopback) or not parts.hostname:
            raise MailError(
                f"the public address for links must start with https://, got {public_url!r}"
            )
        if parts.query or parts.fragment:
            raise MailError("the public address for links must not have a query or fragment")
        self.signer = signer
        self.base = public_url.rstrip("/")

    def _url(self, path: str, token: str) -> str:
        return f"{self.base}{path}{quote(token, safe='.-_')}"

    def unsubscribe(
        self, *, shop: str, subject: str, valid_for: timedelta = timedelta(days=UNSUBSCRIBE_DAYS)
    ) -> str:
        """The one-click unsubscribe link for ``subject`` (a customer id, never an address)."""
        token = self.signer.sign(
            Purpose.UNSUBSCRIBE, shop=shop, subject=subject, valid_for=valid_for
        )
        return self._url("/v1/unsubscribe/", token)

    def survey_answers(
        self, *, shop: str, subject: str, valid_for: timedelta = timedelta(days=SURVEY_DAYS)
    ) -> tuple[str, ...]:
        """Five links (rating 1 to 5) sharing one token, so one nonce per question set."""
        token = self.signer.sign(Purpose.SURVEY, shop=shop, subject=subject, valid_for=valid_for)
        url = self._url("/v1/survey/", token)
        return tuple(f"{url}?rating={n}" for n in range(1, 6))

    def newsletter_confirm(
        self, *, shop: str, subject: str, valid_for: timedelta = timedelta(days=NEWSLETTER_DAYS)
    ) -> str:
        token = self.signer.sign(
            Purpose.NEWSLETTER_CONFIRM, shop=shop, subject=subject, valid_for=valid_for
        )
        return self._url("/v1/newsletter/confirm/", token)

    def newsletter_signup(
        self, *, shop: str, subject: str, valid_for: timedelta = timedelta(days=SIGNUP_DAYS)
    ) -> str:
        """The one-click signup for ``subject`` (the order id whose address signs up)."""
        token = self.signer.sign(
            Purpose.NEWSLETTER_SIGNUP, shop=shop, subject=subject, valid_for=valid_for
        )
        return self._url("/v1/newsletter/signup/", token)

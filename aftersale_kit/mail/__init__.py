"""Follow-up e-mails: building them, signing their links and handing them to an SMTP server.

::

    signer = LinkSigner(key)                                    # the service's link key
    links = MailLinks(signer, "https://after.example.com")
    composer = MailComposer(shop=config.settings, mail=config.mail, renderer=renderer)
    mail = composer.compose(MailRequest(template="survey", to_address=..., idempotency_key=...,
                                        marketing=False, data={...}))
    mailer = Mailer.for_settings(config.settings.domain, config.mail, limiter=limiter)
    delivery = mailer.deliver(mail, attempt=1)        # SENT, RETRY (with retry_at) or FAILED

Nothing sleeps: a transient failure or the shop's send rate comes back as a retry instruction
for the caller's schedule. Importing this package performs no I/O.
"""

from .compose import MailComposer, MailRequest, OutgoingMail, message_id_for, safe_header_text
from .errors import MailError
from .links import MailLinks
from .ratelimit import SendRateLimiter, TokenBucket
from .tokens import (
    LinkClaims,
    LinkKeyError,
    LinkKeys,
    LinkSigner,
    Purpose,
    Refusal,
    TokenRefused,
    parse_link_keys,
)
from .transport import (
    Delivery,
    DeliveryStatus,
    DryRunTransport,
    Mailer,
    RetryPolicy,
    SmtpTransport,
    Transport,
    TransportError,
)

__all__ = [
    "Delivery",
    "DeliveryStatus",
    "DryRunTransport",
    "LinkClaims",
    "LinkKeyError",
    "LinkKeys",
    "LinkSigner",
    "MailComposer",
    "MailError",
    "MailLinks",
    "MailRequest",
    "Mailer",
    "OutgoingMail",
    "Purpose",
    "Refusal",
    "RetryPolicy",
    "SendRateLimiter",
    "SmtpTransport",
    "TokenBucket",
    "TokenRefused",
    "Transport",
    "TransportError",
    "message_id_for",
    "parse_link_keys",
    "safe_header_text",
]

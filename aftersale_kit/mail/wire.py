"""An e-mail's bytes, written directly: header lines, then a multipart/alternative of a plain
text and an HTML part.

The ``email`` package's header objects and generator took about half the time of composing and
sending a follow-up; the structure here is fixed and small, so it is written out instead.
Header values arrive cleaned (:func:`~.compose.safe_header_text`: no line breaks); ASCII values
stay as they are (one line, at most 998 characters, so a long ``List-Unsubscribe`` URL is one
plain token), others become RFC 2047 encoded words (display names folded by the ``email``
package, whose parser reads them back exactly). Bodies are UTF-8, sent as ``7bit`` when they
are ASCII with short lines, else quoted-printable (7-bit clean, no 8BITMIME needed).
Line ends are ``\\n`` here; :meth:`~.compose.OutgoingMail.as_bytes` gives CRLF.
"""

from __future__ import annotations

import binascii
import secrets
from collections.abc import Sequence
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.utils import formataddr

__all__ = ["address_line", "header_line", "multipart_alternative"]

_MAX_LINE = 998
_FOLD = policy.SMTP.clone(linesep="\n")


def header_line(name: str, value: str) -> str:
    """``Name: value`` and its line end; non-ASCII values as encoded words (folded)."""
    if value.isascii() and len(name) + 2 + len(value) <= _MAX_LINE:
        return f"{name}: {value}\n"
    encoded = Header(value, "utf-8", header_name=name).encode(linesep="\n")
    return f"{name}: {encoded}\n"


def address_line(name: str, display_name: str, address: str) -> str:
    """An address header: the display name quoted or encoded as needed, then ``<address>``."""
    if not display_name:
        return f"{name}: {address}\n"
    if display_name.isascii():
        return f"{name}: {formataddr((display_name, address))}\n"
    # encoded words in a display name: the email package's own folding, which its parser
    # (and others) read back exactly
    header = _FOLD.header_factory(name, Address(display_name=display_name, addr_spec=address))
    return str(header.fold(policy=_FOLD))


def _part(content: str, subtype: str) -> bytes:
    """One text part: its headers, a blank line and its body (line ends normalised to
    ``\\n``, ending in one, like the ``email`` package's ``set_content``)."""
    data = b"\n".join(content.encode("utf-8").splitlines()) + b"\n"
    if data.isascii() and all(len(line) <= _MAX_LINE for line in data.split(b"\n")):
        cte, body = b"7bit", data
    else:
        cte, body = b"quoted-printable", binascii.b2a_qp(data, istext=True)
    return (
        b"Content-Type: text/" + subtype.encode("ascii") + b'; charset="utf-8"\n'
        b"Content-Transfer-Encoding: " + cte + b"\n\n" + body
    )


def multipart_alternative(headers: Sequence[str], text: str, html: str) -> bytes:
    """The whole message: ``headers`` (lines from :func:`header_line` / :func:`address_line`),
    the MIME headers, the text part, then the HTML part."""
    boundary = f"=_ak_{secrets.token_hex(16)}".encode("ascii")
    head = "".join(headers).encode("ascii")
    return b"".join(
        (
            head,
            b'MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary="',
            boundary,
            b'"\n\n--',
            boundary,
            b"\n",
            _part(text, "plain"),
            b"\n--",  # the line end before a delimiter belongs to it (RFC 2046, 5.1.1)
            boundary,
            b"\n",
            _part(html, "html"),
            b"\n--",
            boundary,
            b"--\n",
        )
    )

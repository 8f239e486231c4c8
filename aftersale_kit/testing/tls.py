"""A throw-away certificate authority for serving the sandboxes over HTTPS in tests."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

from aftersale_kit.core.errors import MissingExtraError

__all__ = ["TestCertificate", "make_test_certificate"]


@dataclass(frozen=True, slots=True)
class TestCertificate:
    """``server_context`` serves HTTPS; ``ca_file`` is what clients pass as ``verify``."""

    server_context: ssl.SSLContext
    ca_file: Path


def make_test_certificate(directory: Path, *hosts: str) -> TestCertificate:
    """A CA and a server certificate for ``hosts`` (default: 127.0.0.1 and localhost)."""
    try:
        import trustme
    except ImportError as exc:
        raise MissingExtraError("serving a sandbox over HTTPS", "testing") from exc
    ca = trustme.CA()
    cert = ca.issue_cert(*(hosts or ("127.0.0.1", "localhost")))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    directory.mkdir(parents=True, exist_ok=True)
    ca_file = directory / "sandbox-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    return TestCertificate(server_context=context, ca_file=ca_file)

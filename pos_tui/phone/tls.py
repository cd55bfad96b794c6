"""The phone page's certificate: self-signed, made on first use, kept in the data folder.

Browsers give the position only to a secure page, and the photos cross the shop's Wi-Fi,
so the page is HTTPS only. No authority can vouch for a laptop on a shop's network, so the
phone shows a warning once; the technician compares the SHA-256 fingerprint the QR screen
shows with the one the phone's browser shows for the certificate. The key never leaves the
data folder's `phone/` (0700, the files 0600), like the signing keys (`store/keys.py`).
"""

from __future__ import annotations

import contextlib
import hashlib
import ipaddress
import os
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pos_tui.domain.safe_read import read_regular_file

PHONE_DIR = "phone"
CERT_FILE = "cert.pem"
KEY_FILE = "key.pem"
FILE_LIMIT = 16 * 1024
VALID_FOR = timedelta(days=825)
"""What browsers accept at most for a server certificate (iOS refuses a longer one)."""


@dataclass(frozen=True, slots=True)
class Certificate:
    cert_path: Path
    key_path: Path
    fingerprint: str
    """SHA-256 of the certificate, as browsers show it: 32 hex pairs joined by colons."""

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(self.cert_path, self.key_path)
        return context


def fingerprint_of(der: bytes) -> str:
    digest = hashlib.sha256(der).hexdigest().upper()
    return ":".join(digest[i : i + 2] for i in range(0, len(digest), 2))


def ensure_certificate(folder: Path, addresses: list[str]) -> Certificate:
    """The certificate in `folder`/phone, made now (for `addresses` and loopback) if there
    is none. On the worker: it reads and may write the disk."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    where = folder / PHONE_DIR
    cert_path, key_path = where / CERT_FILE, where / KEY_FILE
    if not (cert_path.exists() and key_path.exists()):
        _make(where, addresses)
    pem = read_regular_file(cert_path, FILE_LIMIT, follow_links=False)
    if os.name == "posix" and key_path.stat().st_mode & 0o077:
        # Others could read it: anyone on this laptop could then pose as the page.
        os.chmod(key_path, 0o600)
    der = x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)
    return Certificate(cert_path, key_path, fingerprint_of(der))


def _make(where: Path, addresses: list[str]) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.hazmat.primitives.serialization import (
        Encoding,
        NoEncryption,
        PrivateFormat,
    )
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pos-tui phone page")])
    now = datetime.now(UTC)
    hosts = sorted({"127.0.0.1", *addresses})
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    names += [x509.IPAddress(ipaddress.ip_address(host)) for host in hosts]
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(where, 0o700)
    key_pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    # The key first: a certificate without its key would be found and fail to load.
    _write_private(where / KEY_FILE, key_pem)
    _write_private(where / CERT_FILE, cert.public_bytes(Encoding.PEM))


def _write_private(path: Path, data: bytes) -> None:
    part = path.with_suffix(".part")
    with contextlib.suppress(FileNotFoundError):
        part.unlink()
    fd = os.open(part, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    with os.fdopen(fd, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    os.replace(part, path)

"""A private CA and a broker server certificate, for an installation without a public certificate.

`enertrack certs init` writes them; Mosquitto serves the server certificate and devices and the
ingest daemon verify it with the CA. EC P-256 keys: Mosquitto, Python's ssl and the ESP32's
mbedTLS all take them.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_DAYS = 3650
SERVER_DAYS = 825  # the longest validity browsers and Apple's TLS stack accept for a server certificate
# A DNS name: labels of letters, digits and '-', separated by dots (a leading "*." for a wildcard).
_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_DNS = re.compile(rf"^(\*\.)?{_LABEL}(\.{_LABEL})*$")


class PkiError(ValueError):
    """A certificate cannot be made as asked: the message says why and what to do."""


@dataclass(frozen=True)
class PkiFiles:
    """Where init_pki put the CA and the server certificate."""

    ca_cert: Path
    ca_key: Path
    server_cert: Path
    server_key: Path

    @classmethod
    def in_directory(cls, directory: Path) -> PkiFiles:
        """The four file names in directory (what Mosquitto's cafile/certfile/keyfile point at)."""
        return cls(directory / "ca.crt", directory / "ca.key", directory / "server.crt", directory / "server.key")


def subject_names(names: Iterable[str]) -> list[x509.GeneralName]:
    """SAN entries for host names and IP addresses, in order, without repeats; PkiError for a bad one."""
    found: list[x509.GeneralName] = []
    for raw in names:
        name = raw.strip()
        try:
            entry: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(name))
        except ValueError:
            if len(name) > 253 or not _DNS.match(name):
                raise PkiError(f"{raw!r} is neither a host name (such as mqtt.example.com) nor an IP address") from None
            entry = x509.DNSName(name.lower())
        if entry not in found:
            found.append(entry)
    if not found:
        raise PkiError("no host name for the server certificate: set DOMINIO or pass --san NAME")
    return found


def _write_key(key: ec.EllipticCurvePrivateKey, path: Path) -> None:
    # Created 0600 from the start: the key is never readable by others, not even for an instant.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))


def _new_ca(files: PkiFiles, now: dt.datetime, common_name: str) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=CA_DAYS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    _write_key(key, files.ca_key)
    files.ca_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _load_ca(files: PkiFiles) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    try:
        cert = x509.load_pem_x509_certificate(files.ca_cert.read_bytes())
        key = serialization.load_pem_private_key(files.ca_key.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise PkiError(f"cannot read the CA in {files.ca_cert.parent}: {exc}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
        raise PkiError(f"{files.ca_key} is not the key of {files.ca_cert}")
    return cert, key


def init_pki(directory: Path, names: Iterable[str], *, force: bool = False,
             now: dt.datetime | None = None) -> tuple[PkiFiles, bool]:
    """Write a server certificate for names, signed by the CA in directory (made first if absent).

    Returns the files and whether a new CA was made. An existing CA is kept, because devices
    already trust it; an existing server certificate is replaced only with force.
    """
    sans = subject_names(names)
    files = PkiFiles.in_directory(directory)
    if files.server_cert.exists() and not force:
        raise PkiError(f"{files.server_cert} already exists: pass --force to issue a new one with the same CA")
    if files.ca_cert.exists() != files.ca_key.exists():
        raise PkiError(f"{directory} holds only one of ca.crt and ca.key: restore the other, or remove both "
                       "for a new CA (devices must then be given the new ca.crt)")
    directory.mkdir(parents=True, exist_ok=True)
    now = now or dt.datetime.now(dt.UTC)
    created = not files.ca_cert.exists()
    ca, ca_key = _new_ca(files, now, "EnerTrack private CA") if created else _load_ca(files)
    key = ec.generate_private_key(ec.SECP256R1())
    first = sans[0].value
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, str(first))]))
            .issuer_name(ca.subject).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=SERVER_DAYS))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    _write_key(key, files.server_key)
    files.server_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return files, created

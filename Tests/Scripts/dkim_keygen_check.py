#!/usr/bin/python3
"""Signs a message with dkimpy's own signer using KEYFILE, then verifies it with the DNS record
that `postroom dkim-keygen` printed (read from RECORDFILE, zone-file syntax), served to dkimpy
through dnsfunc. Prints "verified" and exits 0 when the record and the key agree, exits 1 when not.

usage: dkim_keygen_check.py KEYFILE RECORDFILE rsa|ed25519
"""
import base64
import re
import sys

import dkim

key_file, record_file, algorithm = sys.argv[1:4]
text = open(record_file).read()
record_lines = [line for line in text.splitlines() if not line.startswith(";")]
zone = "\n".join(record_lines)
owner = zone.split()[0].rstrip(".")
value = "".join(re.findall(r'"([^"]*)"', zone))
selector, domain = owner.split("._domainkey.")

pem = open(key_file, "rb").read()
if algorithm == "ed25519":
    # dkimpy takes an Ed25519 key as the base64 of its 32-byte seed: the end of the PKCS#8 DER.
    der = base64.b64decode(b"".join(line for line in pem.splitlines() if not line.startswith(b"-----")))
    private = base64.b64encode(der[-32:])
    signature_algorithm = b"ed25519-sha256"
else:
    private = pem
    signature_algorithm = b"rsa-sha256"

message = (
    b"From: Team <team@" + domain.encode() + b">\r\nTo: ann@example.net\r\nSubject: key check\r\n"
    b"Date: Wed, 2 Dec 2026 09:00:00 +0000\r\nMessage-ID: <check@" + domain.encode() + b">\r\n\r\nHello.\r\n"
)
signature = dkim.sign(
    message, selector.encode(), domain.encode(), private, signature_algorithm=signature_algorithm,
    include_headers=[b"from", b"to", b"subject", b"date", b"message-id"])


def dns(name, timeout=5):
    expected = f"{selector}._domainkey.{domain}."
    return value.encode() if name.decode() in (expected, expected.rstrip(".")) else None


if dkim.verify(signature + message, dnsfunc=dns):
    print("verified")
    sys.exit(0)
print("verification failed", file=sys.stderr)
sys.exit(1)

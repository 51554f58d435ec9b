#!/usr/bin/python3
"""Signs a message with dkimpy, an independent signer for the verification tests.

usage: dkim_sign.py dkim MESSAGE SELECTOR DOMAIN KEYFILE
       dkim_sign.py arc MESSAGE SELECTOR DOMAIN KEYFILE AUTHSERV-ID
KEYFILE is PEM as openssl genpkey writes it (RSA, or Ed25519 in PKCS#8). `dkim` prepends a
DKIM-Signature (rsa-sha256 or ed25519-sha256 after the key); `arc` prepends an ARC set
(rsa-sha256), whose results come from the message's Authentication-Results of AUTHSERV-ID.
The signed message goes to standard output, with the message's own line endings (CRLF after `arc`).
"""
import base64
import sys

import dkim


def private_key(path):
    with open(path, "rb") as handle:
        pem = handle.read()
    if b"BEGIN PRIVATE KEY" in pem:
        der = base64.b64decode(b"".join(line for line in pem.splitlines() if not line.startswith(b"-----")))
        # An Ed25519 PKCS#8 key is 48 bytes ending with the 32-byte seed; dkimpy takes the seed in base64.
        if len(der) == 48 and der[7:12] == b"\x06\x03\x2b\x65\x70":
            return base64.b64encode(der[-32:]), b"ed25519-sha256"
    return pem, b"rsa-sha256"


def main():
    mode, path, selector, domain, keyfile = sys.argv[1:6]
    with open(path, "rb") as handle:
        message = handle.read()
    if mode == "arc":
        # dkimpy ends the ARC-Authentication-Results it makes with CRLF whatever the message
        # uses, which breaks its own seal on an LF message: ARC sets are made on CRLF.
        message = message.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    linesep = b"\r\n" if b"\r\n" in message else b"\n"
    key, algorithm = private_key(keyfile)
    if mode == "dkim":
        fields = [dkim.sign(message, selector.encode(), domain.encode(), key, signature_algorithm=algorithm,
                            linesep=linesep)]
    else:
        fields = dkim.arc_sign(message, selector.encode(), domain.encode(), key, sys.argv[6].encode(),
                               linesep=linesep)
        if not fields:
            print("dkimpy made no ARC set (no Authentication-Results of %s?)" % sys.argv[6], file=sys.stderr)
            return 1
    sys.stdout.buffer.write(b"".join(fields) + message)
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
"""Verifies every DKIM-Signature of a message with dkimpy, the public keys given on the
command line instead of DNS.

usage: dkim_verify.py MESSAGE NAME=TXT...   (NAME: selector._domainkey.domain)
Prints one line per signature; exits 0 when there is at least one and all verify, 1 otherwise.
"""
import sys

import dkim


def main():
    with open(sys.argv[1], "rb") as handle:
        message = handle.read()
    records = {}
    for spec in sys.argv[2:]:
        name, _, value = spec.partition("=")
        records[name.rstrip(".").lower() + "."] = value.encode()

    def dnsfunc(name, timeout=5):
        if isinstance(name, bytes):
            name = name.decode()
        return records.get(name.rstrip(".").lower() + ".")

    # dkimpy verifies the LF or CRLF message alike; it counts the signatures itself.
    verifier = dkim.DKIM(message)
    count = len([line for line in verifier.headers if line[0].lower() == b"dkim-signature"])
    if count == 0:
        print("no DKIM-Signature")
        return 1
    ok = True
    for index in range(count):
        checker = dkim.DKIM(message)
        try:
            result = checker.verify(idx=index, dnsfunc=dnsfunc)
        except dkim.DKIMException as error:
            result = False
            print("signature %d: error %s" % (index, error))
        sig = checker.signature_fields or {}
        print("signature %d: %s a=%s d=%s" % (
            index, "pass" if result else "fail",
            sig.get(b"a", b"?").decode(), sig.get(b"d", b"?").decode()))
        ok = ok and bool(result)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

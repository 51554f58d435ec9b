#!/usr/bin/python3
"""Verifies every DKIM-Signature of a message with dkimpy, the public keys given on the
command line instead of DNS.

usage: dkim_verify.py MESSAGE NAME=TXT...   (NAME: selector._domainkey.domain)
Prints one line per signature; a signature whose key is not given (a poster's, kept on a list
copy) is skipped. Exits 0 when at least one was checked and all checked verify, 1 otherwise.
"""
import sys

import dkim
import key_records


def main():
    with open(sys.argv[1], "rb") as handle:
        message = handle.read()
    records = key_records.records(sys.argv[2:])
    asked = []

    def dnsfunc(name, timeout=5):
        key = key_records.normalised(name)
        asked.append(key)
        return records.get(key)

    # dkimpy verifies the LF or CRLF message alike; it counts the signatures itself.
    verifier = dkim.DKIM(message)
    count = len([line for line in verifier.headers if line[0].lower() == b"dkim-signature"])
    if count == 0:
        print("no DKIM-Signature")
        return 1
    ok = True
    checked = 0
    for index in range(count):
        del asked[:]
        checker = dkim.DKIM(message)
        try:
            result = checker.verify(idx=index, dnsfunc=dnsfunc)
        except dkim.DKIMException as error:
            result = False
            print("signature %d: error %s" % (index, error))
        sig = checker.signature_fields or {}
        tags = "a=%s d=%s s=%s" % tuple(sig.get(t, b"?").decode() for t in (b"a", b"d", b"s"))
        if asked and all(name not in records for name in asked):
            print("signature %d: skipped (no key given) %s" % (index, tags))
            continue
        checked += 1
        print("signature %d: %s %s" % (index, "pass" if result else "fail", tags))
        ok = ok and bool(result)
    return 0 if ok and checked > 0 else 1


if __name__ == "__main__":
    sys.exit(main())

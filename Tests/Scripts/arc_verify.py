#!/usr/bin/python3
"""Validates a message's ARC chain with dkimpy, the public keys given on the command line
instead of DNS.

usage: arc_verify.py MESSAGE NAME=TXT...   (NAME: selector._domainkey.domain)
Prints "cv=RESULT instances=N: REASON"; exits 0 when the chain validates (cv=pass), 1 otherwise.
"""
import sys

import dkim
import key_records


def main():
    with open(sys.argv[1], "rb") as handle:
        message = handle.read()
    records = key_records.records(sys.argv[2:])

    def dnsfunc(name, timeout=5):
        return records.get(key_records.normalised(name))

    cv, results, reason = dkim.arc_verify(message, dnsfunc=dnsfunc)
    result = cv.decode() if isinstance(cv, bytes) else str(cv)
    print("cv=%s instances=%d: %s" % (result, len(results), reason))
    for item in results:
        print("i=%s ams-valid=%s as-valid=%s cv=%s" % (
            item.get("instance"), item.get("ams-valid"), item.get("as-valid"), item.get("cv", b"?").decode()))
    return 0 if cv == dkim.CV_Pass else 1


if __name__ == "__main__":
    sys.exit(main())

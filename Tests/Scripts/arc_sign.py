#!/usr/bin/python3
"""Seals a message with dkimpy's ARC signer, as a hop before postroom would, and prints the
message with the new ARC set on top.

usage: arc_sign.py MESSAGE KEYFILE DOMAIN SELECTOR AUTHSERV-ID
The message must carry an Authentication-Results field of AUTHSERV-ID (dkimpy takes the
chain state from its arc= result). Exits 1 when dkimpy adds no set.
"""
import sys

import dkim


def main():
    path, key_file, domain, selector, authserv_id = sys.argv[1:6]
    with open(path, "rb") as handle:
        message = handle.read()
    with open(key_file, "rb") as handle:
        key = handle.read()
    fields = dkim.arc_sign(message, selector.encode(), domain.encode(), key, authserv_id.encode(),
                           timestamp=1700000000)
    if not fields:
        print("dkimpy added no ARC set", file=sys.stderr)
        return 1
    # One line ending throughout, as the spool keeps messages; ARC canonicalises both alike.
    sys.stdout.buffer.write((b"".join(fields) + message).replace(b"\r\n", b"\n"))
    return 0


if __name__ == "__main__":
    sys.exit(main())

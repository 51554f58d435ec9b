#!/usr/bin/env python3
"""Parse messages with Python's email package (policy=default) and report, as JSON,
each file's defects and decoded headers. Used by the tests as an independent reader."""
import email
import email.policy
import json
import sys

result = {}
for path in sys.argv[1:]:
    with open(path, "rb") as handle:
        message = email.message_from_binary_file(handle, policy=email.policy.default)
    defects = [type(d).__name__ for d in message.defects]
    for part in message.walk():
        defects += [type(d).__name__ for d in part.defects]
    headers = {}
    for name, value in message.items():
        headers.setdefault(name.lower(), []).append(str(value))
        defects += [type(d).__name__ for d in getattr(value, "defects", [])]
    addresses = {}
    for name in ("from", "to", "cc", "reply-to"):
        if name in message:
            addresses[name] = [[a.display_name, a.addr_spec] for a in message[name].addresses]
    bodies = {}
    for kind in ("plain", "html"):
        part = message.get_body(preferencelist=(kind,))
        if part is not None and part.get_content_type() == "text/" + kind:
            bodies[kind] = part.get_content()
    attachments = [[p.get_filename(), p.get_content_type(), len(p.get_content())] for p in message.iter_attachments()]
    result[path] = {"defects": defects, "headers": headers, "addresses": addresses, "bodies": bodies,
                    "attachments": attachments}
json.dump(result, sys.stdout)

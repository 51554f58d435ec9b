#!/usr/bin/env python3
"""Print, as JSON, the defects Python's email package finds in each message file given:
{path: [defect class names, over the message, its parts and its header values]}, or
{path: "error: ..."} when the parser raises. With --strip-control, leading X-Postroom-
fields (a spool file's envelope) are removed first, so a routed copy reads as it will be sent."""
import email
import email.policy
import json
import sys


def strip_control(data):
    lines = data.split(b"\n")
    index = 0
    while index < len(lines) and lines[index].lower().startswith(b"x-postroom-"):
        index += 1
        while index < len(lines) and lines[index][:1] in (b" ", b"\t"):
            index += 1
    return b"\n".join(lines[index:])


def defects(data):
    message = email.message_from_bytes(data, policy=email.policy.default)
    found = []
    for part in message.walk():
        found += [type(d).__name__ for d in part.defects]
        for _, value in part.items():
            found += [type(d).__name__ for d in getattr(value, "defects", [])]
    return sorted(found)


strip = "--strip-control" in sys.argv[1:]
result = {}
for path in [a for a in sys.argv[1:] if a != "--strip-control"]:
    with open(path, "rb") as handle:
        data = handle.read()
    if strip:
        data = strip_control(data)
    try:
        result[path] = defects(data)
    except Exception as error:  # a crash in the reader is a finding, not a test failure here
        result[path] = "error: %s: %s" % (type(error).__name__, error)
json.dump(result, sys.stdout)

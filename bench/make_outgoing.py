#!/usr/bin/env python3
"""Fill SPOOL/outgoing/new with N rendered-looking messages of about SIZE bytes (not durable)."""
import os
import sys

root, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
directory = os.path.join(root, "outgoing", "new")
for index in range(count):
    head = (f"From: Splash <team@example.org>\nTo: \"Student {index}\" <s{index}@example.org>\n"
            f"Subject: Welcome {index}\nMessage-ID: <{index}@example.org>\n"
            f"X-Postroom-Envelope-To: s{index}%40example.org\n\n")
    line = "The quick brown fox jumps over the lazy dog, again and again.\n"
    body = line * max(1, (size - len(head)) // len(line))
    with open(os.path.join(directory, f"1795000000.M{index}P1Q{index}.bench"), "w") as handle:
        handle.write(head + body)

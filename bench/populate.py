#!/usr/bin/env python3
"""Fill a spool with N small messages spread over the queues, as a busy day would leave it.
Not durable (no fsync): this only sets up benchmarks."""
import os
import sys
import time

root, count = sys.argv[1], int(sys.argv[2])
now = int(time.time())
body = b"From: a@example.org\nTo: b@example.org\nSubject: bench\n\nhello\n"
layout = [("outgoing", "new", 0.6), ("deferred", "new", 0.2), ("sent", "cur", 0.2)]
index = 0
for queue, folder, share in layout:
    directory = os.path.join(root, queue, folder)
    for _ in range(int(count * share)):
        created = now - (index % 86400)
        name = f"{created}.M{index % 1000000}P4242Q{index}.bench" + (":2," if folder == "cur" else "")
        path = os.path.join(directory, name)
        with open(path, "wb") as handle:
            handle.write(body)
        if queue == "deferred":
            due = now - 60 if index % 2 else now + 3600
            os.utime(path, (due, due))
        index += 1
print(f"populated {index} messages")

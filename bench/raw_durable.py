#!/usr/bin/env python3
"""The raw durable file-creation rate: for each file, write it in tmp/, fsync it, rename it
into new/ (one directory fsync at the end). The baseline the bulk path is compared with."""
import os
import sys
import time

directory, count, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(os.path.join(directory, "tmp"), exist_ok=True)
os.makedirs(os.path.join(directory, "new"), exist_ok=True)
payload = b"x" * size
start = time.monotonic()
for index in range(count):
    temporary = os.path.join(directory, "tmp", f"f{index}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o640)
    os.write(fd, payload)
    os.fsync(fd)
    os.close(fd)
    os.rename(temporary, os.path.join(directory, "new", f"f{index}"))
fd = os.open(os.path.join(directory, "new"), os.O_RDONLY)
os.fsync(fd)
os.close(fd)
elapsed = time.monotonic() - start
print(f"{count / elapsed:.0f}")

#!/usr/bin/env python3
"""A DNS server on 127.0.0.1 (UDP, a port the OS picks) that answers every query NXDOMAIN.

Prints the port, then serves until killed. The list benchmark points route's DMARC lookup
here, so the post costs one real DNS round trip and never waits on the outside network.
"""
import socket
import sys

server = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
server.bind(("127.0.0.1", 0))
print(server.getsockname()[1], flush=True)
sys.stdout.close()
while True:
    query, client = server.recvfrom(4096)
    if len(query) < 12:
        continue
    end = 12  # the question's name: labels up to the empty one, then type and class
    while end < len(query) and query[end] != 0:
        end += 1 + query[end]
    question = query[12 : end + 5]
    flags = 0x8000 | (query[2] & 0x01) << 8 | 0x0080 | 3  # QR, RD copied, RA, NXDOMAIN
    counts = b"\0\1\0\0\0\0\0\0"  # the question echoed, no records
    server.sendto(query[:2] + flags.to_bytes(2, "big") + counts + question, client)

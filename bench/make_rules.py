#!/usr/bin/env python3
"""A route rule table of COUNT rules where only the last takes someone@...: the worst case,
every earlier pattern tried and failed. The others look like a school program's table:
class lists, staff aliases, whole-address rules and rejects, with groups and alternations."""
import sys

count = int(sys.argv[1])
shapes = [
    "^class-{n}-(students|parents|teachers)$ redirect class-{n}-$1@lists.example.org",
    "^staff-{n}(-[a-z]+)?$ redirect staff{n}@example.org",
    "^teacher-{n}@school{n}\\.example\\.org$ redirect teacher{n}@example.net",
    "^(info|help|office)-{n}$ redirect office{n}@example.org frontdesk{n}@example.org",
    "^old-list-{n}$ reject \"list {n} is closed; write to office@example.org\"",
    "^[a-z]+\\.{n}\\.(alumni|archive)$ redirect archive{n}@example.org",
]
print("# Benchmark table: the rule that matches is the last one.")
for n in range(count - 1):
    print(shapes[n % len(shapes)].format(n=n))
print("^someone$ redirect x@example.org")

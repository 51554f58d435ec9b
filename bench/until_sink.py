#!/usr/bin/env python3
"""Times a command from its start until a local smtp-sink has accepted COUNT more messages.

usage: until_sink.py SINK_LOG COUNT INPUT COMMAND [ARG...]

SINK_LOG is the standard output of `smtp-sink -c`, whose running counters ("... mesg=N")
are rewritten after every message; COUNT is how many more it must accept than when this
starts; INPUT becomes the command's standard input. Prints the seconds elapsed. Fails when
the command fails, or when the sink stops counting for a minute before reaching COUNT.
"""
import re
import subprocess
import sys
import time

STALL = 60.0  # seconds without a new message before giving up


def accepted(log):
    """The sink's message counter: the last "mesg=N" in its log (0 before the first)."""
    with open(log, "rb") as file:
        file.seek(0, 2)
        file.seek(max(0, file.tell() - 512))
        found = re.findall(rb"mesg=(\d+)", file.read())
    return int(found[-1]) if found else 0


def main():
    if len(sys.argv) < 5:
        sys.exit(__doc__)
    log, count, input_path, command = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4:]
    target = accepted(log) + count
    with open(input_path, "rb") as stdin:
        start = time.monotonic()
        process = subprocess.Popen(command, stdin=stdin, stdout=subprocess.DEVNULL)
    seen, progress = accepted(log), time.monotonic()
    while seen < target:
        status = process.poll()
        if status not in (None, 0):
            sys.exit(f"until_sink: {command[0]} exited with status {status}")
        time.sleep(0.002)
        now_seen = accepted(log)
        if now_seen != seen:
            seen, progress = now_seen, time.monotonic()
        elif time.monotonic() - progress > STALL:
            process.kill()
            sys.exit(f"until_sink: the sink stopped at {seen - target + count} of {count} messages")
    elapsed = time.monotonic() - start
    if process.wait() != 0:
        sys.exit(f"until_sink: {command[0]} exited with status {process.returncode}")
    print(f"{elapsed:.3f}")


main()

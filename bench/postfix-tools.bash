# Sourced by the benchmarks: Postfix's own test tools (smtp-sink, smtp-source), unpacked from
# the Debian package into .build/postfix-tools without installing an MTA (make postfix-tools). Sets $tools.
tools=$PWD/.build/postfix-tools
[ -x "$tools/usr/sbin/smtp-sink" ] || make -s postfix-tools
export LD_LIBRARY_PATH=$tools/usr/lib/postfix

# start_smtp_sink: smtp-sink on a port the OS picks ($port), stopped (with $dir removed) when the
# benchmark exits; sets $sink to its PID.
start_smtp_sink() {
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  "$tools/usr/sbin/smtp-sink" -u nobody "127.0.0.1:$port" 256 &
  sink=$!
  trap 'kill $sink 2>/dev/null; rm -rf "$dir"' EXIT
  sleep 0.5
}

# expect_all_sent SPOOL COUNT: stops the benchmark unless deliver moved all COUNT messages to
# sent/ (a run that deferred or failed some would otherwise print a rate it never reached).
expect_all_sent() {
  local sent
  sent=$(find "$1/sent/new" "$1/sent/cur" -type f | wc -l)
  [ "$sent" = "$2" ] || {
    echo "deliver sent $sent of $2 messages ($(find "$1/deferred" "$1/failed" -type f | wc -l) deferred or failed); see $1/log" >&2
    exit 1
  }
}

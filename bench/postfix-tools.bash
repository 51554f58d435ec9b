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

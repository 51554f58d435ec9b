# Sourced by the benchmarks: Postfix's own test tools (smtp-sink, smtp-source), unpacked from
# the Debian package into .build/postfix-tools without installing an MTA (make postfix-tools). Sets $tools.
tools=$PWD/.build/postfix-tools
[ -x "$tools/usr/sbin/smtp-sink" ] || make -s postfix-tools
export LD_LIBRARY_PATH=$tools/usr/lib/postfix

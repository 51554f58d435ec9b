# Sourced by the benchmarks: Postfix's own test tools (smtp-sink, smtp-source), unpacked from
# the Debian package into .build/postfix-tools without installing an MTA. Sets $tools.
tools=$PWD/.build/postfix-tools
if [ ! -x "$tools/usr/sbin/smtp-sink" ]; then
  download=$(mktemp -d)
  (cd "$download" && apt-get download postfix > /dev/null && dpkg -x postfix_*.deb "$tools")
  rm -rf "$download"
fi
export LD_LIBRARY_PATH=$tools/usr/lib/postfix

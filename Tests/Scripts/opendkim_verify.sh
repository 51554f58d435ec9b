#!/bin/sh
# Verifies a message's DKIM signatures with OpenDKIM's opendkim-testmsg (Debian opendkim-tools),
# which looks keys up in DNS through the system resolver: run inside fresh user, network and
# mount namespaces, with txt_server.py on the namespace's own 127.0.0.1:53 serving the given TXT
# records and /etc/resolv.conf bind-mounted to point at it. Nothing outside is touched.
#
# usage: opendkim_verify.sh MESSAGE NAME=TXT...   (NAME: selector._domainkey.domain)
# Exits with opendkim-testmsg's status: 0 when the signatures verify.
set -eu
if [ "${OPENDKIM_VERIFY_INSIDE:-}" != 1 ]; then
    OPENDKIM_VERIFY_INSIDE=1 exec unshare --user --map-root-user --net --mount "$0" "$@"
fi
message=$1
shift
work=$(mktemp -d)
trap 'kill "$(cat "$work/pid" 2>/dev/null)" 2>/dev/null || true; rm -rf "$work"' EXIT
ip link set lo up
: > "$work/ready"
/usr/bin/python3 "$(dirname "$0")/txt_server.py" "$@" > "$work/ready" &
echo $! > "$work/pid"
while ! grep -q ready "$work/ready"; do sleep 0.05; done
echo "nameserver 127.0.0.1" > "$work/resolv.conf"
mount --bind "$work/resolv.conf" /etc/resolv.conf
/usr/sbin/opendkim-testmsg < "$message"

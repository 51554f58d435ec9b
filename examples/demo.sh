#!/usr/bin/env bash
# make demo: the whole outgoing path on this machine, no mail server needed.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-$(swift build -c release --show-bin-path)}
SPOOL=${DEMO_SPOOL:-$PWD/spool}
export POSTROOM_SPOOL=$SPOOL

echo "== spool: $SPOOL"
"$BIN/postroom" init --quiet "$SPOOL"
echo "== submit examples/welcome.eml to examples/students.csv (students and guardians)"
"$BIN/postroom" submit --recipients examples/students.csv --send-to self,guardian \
    --var program.niceName="Splash 2026" < examples/welcome.eml
echo "== expand"
"$BIN/expand"
echo "== render"
"$BIN/render"
echo "== deliver (into the local maildir $SPOOL/mailbox; a real setup names a relay with --smtp)"
"$BIN/deliver" --once --maildir "$SPOOL/mailbox"
echo
"$BIN/postroom" status
# A glob, not `ls | head`: under pipefail, head closing the pipe early fails the script.
delivered=("$SPOOL"/mailbox/new/*)
first=${delivered[0]##*/}
cat <<TEXT

Delivered mail:   ls $SPOOL/mailbox/new        (${#delivered[@]} messages)
One message:      cat $SPOOL/mailbox/new/$first
Decoded header:   $BIN/postroom inspect $SPOOL/mailbox/new/$first
What happened:    less $SPOOL/log
TEXT

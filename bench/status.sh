#!/usr/bin/env bash
# postroom status over a spool of 100,000 messages: wall time and peak RSS.
# Target (issue 2): under 1 s and under 50 MiB.
set -euo pipefail
COUNT=${STATUS_COUNT:-100000}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"$BIN/postroom" init --quiet "$dir/spool"
python3 bench/populate.py "$dir/spool" "$COUNT"
"$BIN/postroom" status --spool "$dir/spool" > /dev/null   # warm the dentry cache like a second look would
for run in 1 2 3; do
  /usr/bin/time -v "$BIN/postroom" status --spool "$dir/spool" > /dev/null 2> "$dir/time"
  wall=$(grep 'Elapsed (wall clock)' "$dir/time" | awk '{print $NF}')
  rss=$(grep 'Maximum resident set size' "$dir/time" | awk '{print $NF}')
  echo "status over $COUNT messages, run $run: wall ${wall}, peak RSS $((rss / 1024)) MiB (limits 1 s, 50 MiB)"
done
echo "cold cache:"
sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null && {
  /usr/bin/time -v "$BIN/postroom" status --spool "$dir/spool" > /dev/null 2> "$dir/time"
  echo "  wall $(grep 'Elapsed (wall clock)' "$dir/time" | awk '{print $NF}'), peak RSS $(( $(grep 'Maximum resident set size' "$dir/time" | awk '{print $NF}') / 1024 )) MiB"
} || echo "  (cannot drop caches here; skipped)"

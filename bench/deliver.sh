#!/usr/bin/env bash
# Issue 4: deliver 10,000 messages to a local smtp-sink over 1 and 4 connections, beside
# Postfix's smtp-source sending the same count, size and connections in the same run.
# Targets: at least half smtp-source's rate; peak RSS under 64 MiB with 100,000 queued.
set -euo pipefail
source bench/postfix-tools.bash
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/postroom-deliver.XXXXXX")
start_smtp_sink
size=1229
count=10000

for connections in 1 4; do
  start=$(date +%s.%N)
  "$tools/usr/sbin/smtp-source" -d -s "$connections" -m "$count" -l "$size" -f team@example.org -t s@example.org "127.0.0.1:$port"
  end=$(date +%s.%N)
  source_rate=$(echo "$count / ($end - $start)" | bc)

  spool="$dir/spool-$connections"
  "$BIN/postroom" init --quiet "$spool"
  python3 bench/make_outgoing.py "$spool" "$count" "$size"
  sync
  start=$(date +%s.%N)
  /usr/bin/time -v "$BIN/deliver" --once --spool "$spool" --smtp "smtp://127.0.0.1:$port" --tls off \
      --connections "$connections" > /dev/null 2> "$dir/time"
  end=$(date +%s.%N)
  expect_all_sent "$spool" "$count"
  rate=$(echo "$count / ($end - $start)" | bc)
  rss=$(grep 'Maximum resident' "$dir/time" | awk '{print $NF}')
  echo "$connections connection(s): deliver $rate msg/s (peak RSS $((rss / 1024)) MiB), smtp-source $source_rate msg/s, ratio $(echo "scale=2; $rate / $source_rate" | bc) (target >= 0.5)"
done

spool="$dir/spool-100k"
"$BIN/postroom" init --quiet "$spool"
python3 bench/make_outgoing.py "$spool" 100000 "$size"
sync
/usr/bin/time -v "$BIN/deliver" --once --spool "$spool" --smtp "smtp://127.0.0.1:$port" --tls off --connections 4 \
    > "$dir/out" 2> "$dir/time"
expect_all_sent "$spool" 100000
echo "100,000 queued, 4 connections: $(cat "$dir/out"); peak RSS $(( $(grep 'Maximum resident' "$dir/time" | awk '{print $NF}') / 1024 )) MiB (target < 64 MiB)"

#!/usr/bin/env bash
# Issue 3: requests -> outgoing/ with durable writes, beside the raw durable creation rate.
# Targets: at least half the raw rate (10,000 recipients); under 100 MiB peak RSS (100,000).
set -euo pipefail
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/postroom-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

run_bulk() {  # $1 = recipients; prints "messages seconds expand_rss render_rss"
  local n=$1 spool="$dir/spool-$1"
  "$BIN/postroom" init --quiet "$spool"
  python3 bench/make_recipients.py "$n" > "$dir/list-$n.csv"
  local start end
  start=$(date +%s.%N)
  "$BIN/postroom" submit --spool "$spool" --recipients "$dir/list-$n.csv" --send-to self,guardian \
    --var program.niceName="Splash 2026" < bench/welcome.eml > /dev/null
  /usr/bin/time -v "$BIN/expand" --spool "$spool" > /dev/null 2> "$dir/expand.time"
  /usr/bin/time -v "$BIN/render" --queue --spool "$spool" > /dev/null 2> "$dir/render.time"
  end=$(date +%s.%N)
  local messages
  messages=$(find "$spool/outgoing/new" -type f | wc -l)
  local size
  size=$(( $(du -sb "$spool/outgoing/new" | cut -f1) / messages ))
  echo "$messages $(echo "$end - $start" | bc) $(grep 'Maximum resident' "$dir/expand.time" | awk '{print $NF}') $(grep 'Maximum resident' "$dir/render.time" | awk '{print $NF}') $size"
  rm -rf "$spool"
}

read -r messages seconds expand_rss render_rss size <<< "$(run_bulk 10000)"
rate=$(echo "$messages / $seconds" | bc)
raw=$(python3 bench/raw_durable.py "$dir/raw" "$messages" "$size")
rm -rf "$dir/raw"
echo "bulk path, 10,000 recipients with guardians: $messages messages of ~$size bytes in ${seconds}s = $rate messages/s"
echo "raw durable creation (tmp+fsync+rename, same size, same file system): $raw files/s"
echo "ratio: $(echo "scale=2; $rate / $raw" | bc) (target >= 0.5)"
echo "peak RSS: expand $((expand_rss / 1024)) MiB, render $((render_rss / 1024)) MiB"

read -r messages seconds expand_rss render_rss size <<< "$(run_bulk 100000)"
echo "bulk path, 100,000 recipients: $messages messages in ${seconds}s = $(echo "$messages / $seconds" | bc) messages/s"
echo "peak RSS at 100,000: expand $((expand_rss / 1024)) MiB, render $((render_rss / 1024)) MiB (target < 100 MiB)"

#!/usr/bin/env bash
# Issue 3: requests -> outgoing/ with durable writes, beside the raw durable creation rate.
# Targets: at least half the raw rate (10,000 recipients); under 100 MiB peak RSS (100,000).
#
# Both rates are taken on the same file system with the same conditions: nothing is deleted
# between them, because ext4 makes inode allocation slower for a few minutes after mass
# deletions, which would penalise whichever side ran second.
set -euo pipefail
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/postroom-bench.XXXXXX")
trap 'rm -rf "$dir"' EXIT

run_bulk() {  # $1 = recipients; prints "messages seconds expand_rss render_rss bytes_per_message"
  local n=$1 spool="$dir/spool-$1"
  "$BIN/postroom" init --quiet "$spool"
  python3 bench/make_recipients.py "$n" > "$dir/list-$n.csv"
  sync   # what earlier commands left dirty is not this run's work
  local start end
  start=$(date +%s.%N)
  "$BIN/postroom" submit --spool "$spool" --recipients "$dir/list-$n.csv" --send-to self,guardian \
    --var program.niceName="Splash 2026" < bench/welcome.eml > /dev/null
  /usr/bin/time -v "$BIN/expand" --spool "$spool" > /dev/null 2> "$dir/expand.time"
  /usr/bin/time -v "$BIN/render" --queue --spool "$spool" > /dev/null 2> "$dir/render.time"
  end=$(date +%s.%N)
  local messages size
  messages=$(find "$spool/outgoing/new" -type f | wc -l)
  size=$(( $(du -sb "$spool/outgoing/new" | cut -f1) / messages ))
  echo "$messages $(echo "$end - $start" | bc) $(grep 'Maximum resident' "$dir/expand.time" | awk '{print $NF}') $(grep 'Maximum resident' "$dir/render.time" | awk '{print $NF}') $size"
}

# 10,000 students, a third with a guardian: 13,334 messages of about 1.2 kB.
sync
raw_size=1229   # the average rendered message of this template and list
raw=$(python3 bench/raw_durable.py "$dir/raw" 13334 "$raw_size")
read -r messages seconds expand_rss render_rss size <<< "$(run_bulk 10000)"
rate=$(echo "$messages / $seconds" | bc)
echo "raw durable creation (tmp+fsync+rename of ${raw_size}-byte files, same file system): $raw files/s"
echo "(rendered messages averaged ${size} bytes)"
echo "bulk path, 10,000 recipients with guardians: $messages messages in ${seconds}s = $rate messages/s (submit+expand+render)"
echo "ratio: $(echo "scale=2; $rate / $raw" | bc) (target >= 0.5)"
echo "peak RSS: expand $((expand_rss / 1024)) MiB, render $((render_rss / 1024)) MiB"
rm -rf "$dir/raw" "$dir/spool-10000"

read -r messages seconds expand_rss render_rss size <<< "$(run_bulk 100000)"
echo "bulk path, 100,000 recipients: $messages messages in ${seconds}s = $(echo "$messages / $seconds" | bc) messages/s"
echo "peak RSS at 100,000 recipients: expand $((expand_rss / 1024)) MiB, render $((render_rss / 1024)) MiB (target < 100 MiB)"

#!/usr/bin/env bash
# Issue 11: deliver's throughput to a local smtp-sink unsigned, Ed25519-signed and
# RSA-2048-signed, in the same run, beside `openssl speed` for one signature of each kind.
# Targets: Ed25519-signed at least 0.8x unsigned; RSA-2048's extra CPU per message within
# 1.5x openssl's time per signature.
set -euo pipefail
source bench/postfix-tools.bash
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/postroom-dkim.XXXXXX")
start_smtp_sink
size=1229
count=${DKIM_BENCH_COUNT:-5000}

openssl genpkey -algorithm ed25519 -out "$dir/ed.key" 2>/dev/null
openssl genpkey -algorithm rsa -pkeyopt rsa_keygen_bits:2048 -out "$dir/rsa.key" 2>/dev/null
chmod 600 "$dir"/*.key

# Seconds per signature from openssl's sign/s column (the last but one).
per_sign() { awk -v name="$1" '$0 ~ name { rate = $(NF - 1) } END { printf "%.9f", 1 / rate }'; }
rsa_sign=$(openssl speed -seconds 3 rsa2048 2>/dev/null | per_sign "^rsa 2048")
ed_sign=$(openssl speed -seconds 3 ed25519 2>/dev/null | per_sign "Ed25519")

declare -A rate cpu
for mode in unsigned ed25519 rsa2048; do
  case $mode in
    unsigned) keys=() ;;
    ed25519) keys=(--dkim "example.org:ed:$dir/ed.key") ;;
    rsa2048) keys=(--dkim "example.org:rs:$dir/rsa.key") ;;
  esac
  spool="$dir/spool-$mode"
  "$BIN/postroom" init --quiet "$spool"
  python3 bench/make_outgoing.py "$spool" "$count" "$size"
  sync
  start=$(date +%s.%N)
  /usr/bin/time -f "%U %S" -o "$dir/time" "$BIN/deliver" --once --spool "$spool" \
      --smtp "smtp://127.0.0.1:$port" --tls off "${keys[@]}" > /dev/null 2>&1
  end=$(date +%s.%N)
  rate[$mode]=$(echo "$count / ($end - $start)" | bc)
  cpu[$mode]=$(awk '{print $1 + $2}' "$dir/time")
  echo "$mode: $count messages, ${rate[$mode]} msg/s, CPU ${cpu[$mode]} s"
done
echo "Ed25519-signed / unsigned throughput: $(echo "scale=2; ${rate[ed25519]} / ${rate[unsigned]}" | bc) (target >= 0.8);" \
  "extra CPU $(echo "scale=1; (${cpu[ed25519]} - ${cpu[unsigned]}) * 1000000 / $count" | bc) us/message," \
  "openssl ed25519 sign $(echo "scale=1; $ed_sign * 1000000 / 1" | bc) us"
extra=$(echo "scale=9; (${cpu[rsa2048]} - ${cpu[unsigned]}) / $count" | bc)
echo "RSA-2048 extra CPU per message $(echo "scale=1; $extra * 1000000 / 1" | bc) us," \
  "openssl rsa2048 sign $(echo "scale=1; $rsa_sign * 1000000 / 1" | bc) us," \
  "ratio $(echo "scale=2; $extra / $rsa_sign" | bc) (target <= 1.5)"

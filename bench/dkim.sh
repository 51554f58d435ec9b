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
# swift-crypto's BoringSSL has no AVX-512 IFMA RSA code, which OpenSSL 3 uses where the CPU has
# it: openssl without it (bit 21 of the second capability word masked) is the like-for-like figure.
rsa_sign_no_ifma=$(OPENSSL_ia32cap=":~0x200000" openssl speed -seconds 3 rsa2048 2>/dev/null | per_sign "^rsa 2048")

# Three rounds, the modes taking turns, each figure the median of its three: the machine is
# shared, and one run of each swung the ratios by half.
rounds=${DKIM_BENCH_ROUNDS:-3}
declare -A rates cpus sinks rate cpu sinkcpu
# smtp-sink's CPU seconds so far (user + system clock ticks from /proc).
sink_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$sink/stat"; }
median() { tr ' ' '\n' | sed '/^$/d' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for round in $(seq "$rounds"); do
  for mode in unsigned ed25519 rsa2048; do
    case $mode in
      unsigned) keys=() ;;
      ed25519) keys=(--dkim "example.org:ed:$dir/ed.key") ;;
      rsa2048) keys=(--dkim "example.org:rs:$dir/rsa.key") ;;
    esac
    spool="$dir/spool-$mode-$round"
    "$BIN/postroom" init --quiet "$spool"
    python3 bench/make_outgoing.py "$spool" "$count" "$size"
    sync
    sink_before=$(sink_cpu)
    start=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$dir/time" "$BIN/deliver" --once --spool "$spool" \
        --smtp "smtp://127.0.0.1:$port" --tls off "${keys[@]}" > /dev/null 2>&1
    end=$(date +%s.%N)
    expect_all_sent "$spool" "$count"
    rm -rf "$spool"
    rates[$mode]+=" $(echo "$count / ($end - $start)" | bc)"
    cpus[$mode]+=" $(awk '{print $1 + $2}' "$dir/time")"
    sinks[$mode]+=" $(echo "$(sink_cpu) - $sink_before" | bc)"
  done
done
for mode in unsigned ed25519 rsa2048; do
  rate[$mode]=$(echo "${rates[$mode]}" | median)
  cpu[$mode]=$(echo "${cpus[$mode]}" | median)
  sinkcpu[$mode]=$(echo "${sinks[$mode]}" | median)
  echo "$mode: $count messages x $rounds, median ${rate[$mode]} msg/s (${rates[$mode]# }), CPU ${cpu[$mode]} s (${cpus[$mode]# })"
done
echo "Ed25519-signed / unsigned throughput: $(echo "scale=2; ${rate[ed25519]} / ${rate[unsigned]}" | bc) (target >= 0.8);" \
  "extra CPU $(echo "scale=1; (${cpu[ed25519]} - ${cpu[unsigned]}) * 1000000 / $count" | bc) us/message," \
  "openssl ed25519 sign $(echo "scale=1; $ed_sign * 1000000 / 1" | bc) us"
# On this machine's two cores, a fast unsigned run keeps both busy (deliver's two threads and the
# sink): signed throughput can then reach at most the ratio of CPU per message, signing included.
ceiling=$(echo "scale=2; (${cpu[unsigned]} + ${sinkcpu[unsigned]}) / (${cpu[ed25519]} + ${sinkcpu[ed25519]})" | bc)
echo "CPU per message: deliver unsigned $(echo "scale=1; ${cpu[unsigned]} * 1000000 / $count" | bc) us," \
  "Ed25519 $(echo "scale=1; ${cpu[ed25519]} * 1000000 / $count" | bc) us; smtp-sink" \
  "$(echo "scale=1; ${sinkcpu[unsigned]} * 1000000 / $count" | bc) us; with both cores busy Ed25519 / unsigned" \
  "is at most $ceiling"
extra=$(echo "scale=9; (${cpu[rsa2048]} - ${cpu[unsigned]}) / $count" | bc)
echo "RSA-2048 extra CPU per message $(echo "scale=1; $extra * 1000000 / 1" | bc) us," \
  "openssl rsa2048 sign $(echo "scale=1; $rsa_sign * 1000000 / 1" | bc) us," \
  "ratio $(echo "scale=2; $extra / $rsa_sign" | bc) (target <= 1.5)"
echo "openssl rsa2048 sign without AVX-512 IFMA $(echo "scale=1; $rsa_sign_no_ifma * 1000000 / 1" | bc) us," \
  "ratio $(echo "scale=2; $extra / $rsa_sign_no_ifma" | bc)"

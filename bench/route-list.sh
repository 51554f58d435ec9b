#!/usr/bin/env bash
# Issue 9: one post to a 1,000-member list.
#  (a) route alone, from stdin until all 1,000 copies are durable in outgoing/new (route exits 0
#      only then): hyperfine median. Target < 0.5 s.
#  (b) from stdin until a local Postfix smtp-sink has accepted all 1,000: route, then
#      deliver --once over one connection; beside mlmmj (mlmmj-receive -F, its relayhost and
#      smtpport pointed at the same sink, the same members) in the same run. Target: postroom at
#      least 50x faster.
# Per-member VERP on both sides: postroom writes one file and one envelope per member; mlmmj,
# with no control/verp, sends one SMTP transaction per member with its own return path
# (list1+bounces-N-member=domain@...). Both use one SMTP connection (deliver's and mlmmj's default).
# Each postroom run starts from an empty outgoing/new and route/ (set_aside, untimed): the same
# post again would be taken as the MTA retrying it. route's DMARC lookup for the poster's domain
# goes to a local DNS server that answers NXDOMAIN (bench/dns_nxdomain.py).
set -euo pipefail
source bench/postfix-tools.bash
source bench/set-aside.bash
members=1000
route_runs=${ROUTE_LIST_RUNS:-10}
smtp_runs=${ROUTE_LIST_SMTP_RUNS:-5}
mlmmj_runs=${MLMMJ_RUNS:-1}
post=$PWD/bench/list-post.eml
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/postroom-list.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2> /dev/null || true; done
  rm -rf "$dir"
}
trap cleanup EXIT

median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
"$tools/usr/sbin/smtp-sink" -c -u nobody "127.0.0.1:$port" 256 > "$dir/sink.log" &
pids+=($!)
python3 bench/dns_nxdomain.py > "$dir/dns.port" &
pids+=($!)
for _ in $(seq 50); do [ -s "$dir/dns.port" ] && break; sleep 0.1; done
dns_port=$(cat "$dir/dns.port")
[ -n "$dns_port" ] || { echo "bench/dns_nxdomain.py did not start" >&2; exit 1; }

# The members, the same for both: member0000@example.net ... member0999@example.net.
python3 -c "for n in range($members): print(f'member{n:04d}@example.net')" > "$dir/members"

# postroom: the list rule, its member file beside the table, a spool.
spool=$dir/spool
"$BIN/postroom" init --quiet "$spool"
mkdir "$dir/lists"
cp "$dir/members" "$dir/lists/list1"
echo '^list1$ list lists/list1 tag=[list1] posters=anyone' > "$dir/rules"
printf 'spool = %s\ndns_server = 127.0.0.1:%s\n' "$spool" "$dns_port" > "$dir/postroom.conf"
"$BIN/route" --check --config "$dir/postroom.conf" --rules "$dir/rules" > /dev/null
route="$BIN/route --config $dir/postroom.conf --spool $spool --rules $dir/rules --recipient list1@example.org --sender alice@example.com"
cat > "$dir/prepare" << PREPARE
source "$PWD/bench/set-aside.bash"
set_aside "$spool" "$dir/aside"
PREPARE

# (a) route alone.
hyperfine --style none --runs "$route_runs" --prepare "bash $dir/prepare" \
  --export-json "$dir/route.json" "$route < $post" > /dev/null 2> "$dir/hyperfine.err" \
  || { cat "$dir/hyperfine.err" >&2; exit 1; }
copies=$(find "$spool/outgoing/new" -type f | wc -l)
[ "$copies" = "$members" ] || { echo "route wrote $copies copies to outgoing/new, expected $members" >&2; exit 1; }
size=$(find "$spool/outgoing/new" -type f -printf "%s\n" | awk -v n="$members" '{ s += $1 } END { printf "%d", s / n }')
raw_rate=$(python3 bench/raw_durable.py "$dir/raw" "$members" "$size")
python3 - "$dir/route.json" "$members" "$size" "$raw_rate" << 'PY'
import json, sys
result = json.load(open(sys.argv[1]))["results"][0]
members, size, raw_rate = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
print(f"(a) route, one post to {members} members until every copy is durable in outgoing/new: "
      f"median {result['median']:.3f} s (min {result['min']:.3f}, max {result['max']:.3f}, "
      f"{len(result['times'])} runs; target < 0.5 s; CPU user+sys mean {result['user'] + result['system']:.3f} s)")
print(f"    beside: {members} files of {size} bytes (the copies' average) created durably one by one "
      f"(tmp, fsync, rename; bench/raw_durable.py, same file system): {members / raw_rate:.3f} s")
PY

# (b) postroom: route, then deliver, until the sink has accepted every copy.
for _ in $(seq "$smtp_runs"); do
  set_aside "$spool" "$dir/aside"
  python3 bench/until_sink.py "$dir/sink.log" "$members" "$post" sh -c \
    "$route && $BIN/deliver --once --spool $spool --smtp smtp://127.0.0.1:$port --tls off > /dev/null"
done > "$dir/postroom.times"
left=$(find "$spool/outgoing/new" -type f | wc -l)
[ "$left" = 0 ] || { echo "deliver left $left copies in outgoing/new" >&2; exit 1; }
postroom=$(median < "$dir/postroom.times")
echo "(b) postroom (route + deliver, 1 connection), stdin to $members accepted by smtp-sink:" \
  "median ${postroom} s of $smtp_runs runs ($(tr '\n' ' ' < "$dir/postroom.times"| sed 's/ $//'))"

# (b) mlmmj, the same post to the same members and sink.
if [ "$mlmmj_runs" -lt 1 ]; then
  echo "(b) mlmmj: MLMMJ_RUNS=$mlmmj_runs, comparison skipped"
  exit 0
fi
if [ ! -x /usr/bin/mlmmj-receive ]; then
  echo "(b) mlmmj: not installed (make bench-deps could not install Debian's mlmmj): comparison skipped"
  exit 0
fi
printf 'example.org\npostmaster@example.org\nen\n' | mlmmj-make-ml -L list1 -s "$dir/mlmmj" > "$dir/mlmmj-make-ml.log" 2>&1 \
  || { cat "$dir/mlmmj-make-ml.log" >&2; exit 1; }
list=$dir/mlmmj/list1
echo 127.0.0.1 > "$list/control/relayhost"
echo "$port" > "$list/control/smtpport"
# Subscribers live in subscribers.d/, one file per first character of the address.
cp "$dir/members" "$list/subscribers.d/m"
for _ in $(seq "$mlmmj_runs"); do
  python3 bench/until_sink.py "$dir/sink.log" "$members" "$post" /usr/bin/mlmmj-receive -F -L "$list"
done > "$dir/mlmmj.times"
mlmmj=$(median < "$dir/mlmmj.times")
echo "(b) mlmmj (mlmmj-receive -F, own per-member VERP, 1 connection), stdin to $members accepted by smtp-sink:" \
  "median ${mlmmj} s of $mlmmj_runs run(s) ($(tr '\n' ' ' < "$dir/mlmmj.times" | sed 's/ $//'))"
echo "ratio mlmmj / postroom: $(echo "scale=1; $mlmmj / $postroom" | bc)x (target >= 50x)"

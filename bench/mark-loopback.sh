#!/usr/bin/env bash
# Issue 10: `mark --loopback`, the program an MTA runs for each loopback copy that comes back.
#
# 1. Whole-process time for one copy (hyperfine -N, beside a C `true` as route-startup does):
#    the copy on stdin through the static C wrapper, flag C added to its file in a sent/cur of
#    10,000 files; --prepare (untimed) takes the C off again so each run confirms for real.
# 2. 10,000 copies confirmed in a row, one mark process each (a C driver forks and execs them
#    back to back, as an MTA's deliveries would come): messages per second.
# 3. In the same run, the floor: 10,000 renames within one directory by a C program, bare and
#    with the directory fsynced after each (mark syncs sent/cur so a confirmation survives a
#    power cut, and syncs the log).
# Figures, not assertions.
set -euo pipefail
count=${LOOPBACK_COUNT:-10000}
runs=${LOOPBACK_RUNS:-300}
dir=$(mktemp -d "${BENCH_DIR:-/tmp}/postroom-loopback.XXXXXX")
trap 'rm -rf "$dir"' EXIT

source bench/startup-tools.bash
build_startup_tools "$dir"
# in-a-row COUNT COPIES PROGRAM [ARG...]: runs PROGRAM once per COPIES/<i>.eml on its stdin,
# one after the other; prints the seconds taken; exits 1 if any run failed.
cat > "$dir/in-a-row.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc < 4) return 64;
  int count = atoi(argv[1]), failed = 0;
  char path[4096];
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int i = 0; i < count; i++) {
    snprintf(path, sizeof path, "%s/%d.eml", argv[2], i);
    pid_t pid = fork();
    if (pid == 0) {
      int fd = open(path, O_RDONLY);
      if (fd < 0 || dup2(fd, 0) < 0) _exit(66);
      int null = open("/dev/null", O_WRONLY);
      dup2(null, 2);
      execv(argv[3], argv + 3);
      _exit(71);
    }
    int status;
    if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  printf("%.3f\n", (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
  return failed ? 1 : 0;
}
C
gcc -O2 -o "$dir/in-a-row" "$dir/in-a-row.c"
# renames COUNT DIR SYNC: renames DIR/<i>:2,L to DIR/<i>:2,CL for each i; with SYNC 1, fsyncs
# DIR after each. Prints the seconds taken.
cat > "$dir/renames.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 4) return 64;
  int count = atoi(argv[1]), sync = atoi(argv[3]);
  char from[4096], to[4096];
  int directory = open(argv[2], O_RDONLY | O_DIRECTORY);
  if (directory < 0) { perror(argv[2]); return 66; }
  struct timespec start, end;
  clock_gettime(CLOCK_MONOTONIC, &start);
  for (int i = 0; i < count; i++) {
    snprintf(from, sizeof from, "%s/1796000000.M%dP1Q1.bench.R1:2,L", argv[2], i);
    snprintf(to, sizeof to, "%s/1796000000.M%dP1Q1.bench.R1:2,CL", argv[2], i);
    if (rename(from, to) != 0) { perror(from); return 74; }
    if (sync && fsync(directory) != 0) { perror(argv[2]); return 74; }
  }
  clock_gettime(CLOCK_MONOTONIC, &end);
  printf("%.3f\n", (end.tv_sec - start.tv_sec) + (end.tv_nsec - start.tv_nsec) / 1e9);
  return 0;
}
C
gcc -O2 -o "$dir/renames" "$dir/renames.c"

spool=$dir/spool
"$BIN/postroom" init --quiet "$spool"
printf 'spool = %s\nmessage_id_domain = bench.example\n' "$spool" > "$dir/postroom.conf"
# COUNT sent files (flag L, as deliver --loopback leaves them) and the copies that come back.
python3 - "$count" "$spool/sent/cur" "$dir/copies" "$dir/plain" <<'PY'
import os, sys
count, cur, copies, plain = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
os.makedirs(copies)
os.makedirs(plain)
for i in range(count):
    name = f"1796000000.M{i}P1Q1.bench.R1"
    message = (f"From: School Office <office@bench.example>\nTo: student{i}@example.org\n"
               f"Subject: Term dates\nDate: Wed, 02 Dec 2026 08:00:00 +0000\n"
               f"Message-ID: <{name}@bench.example>\nMIME-Version: 1.0\n"
               f"Content-Type: text/plain; charset=utf-8\n\nTerm starts on Monday.\n")
    with open(f"{cur}/{name}:2,L", "w") as f:
        f.write(f"X-Postroom-Envelope-To: student{i}@example.org\n" + message)
    with open(f"{copies}/{i}.eml", "w") as f:
        f.write("Return-path: <bounces+" + name + "@bench.example>\n" + message)
    open(f"{plain}/{name}:2,L", "w").close()
PY
mark="$BIN/mark --loopback --config $dir/postroom.conf"
one="$spool/sent/cur/1796000000.M0P1Q1.bench.R1"
# One run outside the benchmark shows the copy is confirmed.
"$dir/stdin-from" "$dir/copies/0.eml" $mark 2> /dev/null
[ -f "$one:2,CL" ] || { echo "mark --loopback did not confirm $one" >&2; exit 1; }
cat > "$dir/prepare" <<PREPARE
mv "$one:2,CL" "$one:2,L"
PREPARE

hyperfine -N --style none --warmup 10 --runs "$runs" --export-json "$dir/times.json" \
  --command-name "C true" --prepare true "$dir/true" \
  --command-name "C true via the stdin wrapper" --prepare true "$dir/stdin-from $dir/copies/0.eml $dir/true" \
  --command-name "mark --loopback: one copy via the wrapper, sent/cur of $count files" \
  --prepare "bash $dir/prepare" "$dir/stdin-from $dir/copies/0.eml $mark" \
  > /dev/null 2> "$dir/hyperfine.err" || { cat "$dir/hyperfine.err" >&2; exit 1; }
bash "$dir/prepare"  # the last run confirmed it: back to L for the run in a row

# Every file back to L, then all of them confirmed in a row.
row=$("$dir/in-a-row" "$count" "$dir/copies" $mark) || { echo "some mark runs failed" >&2; exit 1; }
confirmed=$(find "$spool/sent/cur" -name '*:2,CL' | wc -l)
[ "$confirmed" = "$count" ] || { echo "$confirmed of $count confirmed" >&2; exit 1; }
bare=$("$dir/renames" "$count" "$dir/plain" 0)
for f in "$dir/plain"/*; do mv "$f" "${f%:2,CL}:2,L"; done
synced=$("$dir/renames" "$count" "$dir/plain" 1)

python3 - "$dir/times.json" "$count" "$row" "$bare" "$synced" << 'PY'
import json, sys
results = json.load(open(sys.argv[1]))["results"]
count, row, bare, synced = int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5])
for result in results:
    print(f"{result['command']}: median {result['median'] * 1000:.2f} ms "
          f"(mean {result['mean'] * 1000:.2f} ± {result['stddev'] * 1000:.2f} ms, {len(result['times'])} runs; "
          f"CPU user+sys mean {(result['user'] + result['system']) * 1000:.2f} ms)")
true, wrapped, mark = (r["median"] * 1000 for r in results)
print(f"mark --loopback / C true: {mark / true:.1f}x; less the wrapper's exec: {mark - (wrapped - true):.2f} ms")
print(f"{count} copies confirmed in a row, one mark process each: {row:.2f} s = {count / row:,.0f} messages/s")
print(f"{count} renames in one directory (C): {bare:.3f} s = {count / bare:,.0f}/s; "
      f"with an fsync of the directory after each: {synced:.2f} s = {count / synced:,.0f}/s")
print(f"mark in a row / renames with fsync: {(row / count) / (synced / count):.1f}x the time per message")
PY

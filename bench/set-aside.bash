# Sourced by the route benchmarks: set_aside SPOOL ASIDE gives SPOOL an empty outgoing/new and
# route/ for the next run. route keeps a record per message in route/ and takes the same message
# again for an MTA's retry (it publishes nothing), so every run needs its records gone; the old
# directories are renamed into ASIDE (same file system), not deleted, because ext4 allocates
# inodes more slowly for a while after mass deletions.
set_aside() {
  local spool=$1 aside=$2 n
  n=$(date +%s%N)
  mkdir -p "$aside"
  mv "$spool/outgoing/new" "$aside/new.$n" && mkdir "$spool/outgoing/new"
  if [ -d "$spool/route" ]; then mv "$spool/route" "$aside/route.$n" && mkdir "$spool/route"; fi
}

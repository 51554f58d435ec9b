# Sourced by the start-up benchmarks (route-startup, mark-loopback): build_startup_tools DIR
# compiles into DIR a C `true` (the floor for any process) and `stdin-from FILE PROGRAM [ARG...]`,
# a static C wrapper that runs PROGRAM with FILE as its standard input, so hyperfine -N can time
# a program reading a message without a shell.
build_startup_tools() {
  local dir=$1
  echo 'int main(void) { return 0; }' > "$dir/true.c"
  gcc -O2 -o "$dir/true" "$dir/true.c"
  cat > "$dir/stdin-from.c" <<'C'
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
/* stdin-from FILE PROGRAM [ARG...]: PROGRAM with FILE as its standard input. */
int main(int argc, char **argv) {
  if (argc < 3) return 64;
  int fd = open(argv[1], O_RDONLY);
  if (fd < 0 || dup2(fd, 0) < 0) { perror(argv[1]); return 66; }
  execv(argv[2], argv + 2);
  perror(argv[2]);
  return 71;
}
C
  gcc -O2 -static -o "$dir/stdin-from" "$dir/stdin-from.c"
}

// An LD_PRELOAD shim for the crash harness: counts every call that changes the spool and
// stops the process at the one the harness names, before the call runs.
//
// Counted steps: open(2) with O_CREAT, write(2) to a regular file, fsync, fdatasync, rename,
// unlink, link, ftruncate. Environment, read once at load and removed so children are not affected:
//   POSTROOM_CRASH_AT=N      the Nth counted step (from 1) is not performed: the process gets SIGKILL,
//                            or SIGSTOP with POSTROOM_CRASH_SIGNAL=STOP (the harness then decides).
//   POSTROOM_CRASH_TRACE=F   append "N op path" for every counted step to F (to count steps, and to
//                            say where a failing trial stopped).
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static long crash_at = 0;
static int crash_signal = SIGKILL;
static int trace_fd = -1;
static long counter = 0;

__attribute__((constructor)) static void crashpoint_init(void) {
    const char *at = getenv("POSTROOM_CRASH_AT");
    if (at) crash_at = atol(at);
    const char *sig = getenv("POSTROOM_CRASH_SIGNAL");
    if (sig && strcmp(sig, "STOP") == 0) crash_signal = SIGSTOP;
    const char *trace = getenv("POSTROOM_CRASH_TRACE");
    if (trace) trace_fd = (int)syscall(SYS_openat, AT_FDCWD, trace, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    unsetenv("POSTROOM_CRASH_AT");
    unsetenv("POSTROOM_CRASH_SIGNAL");
    unsetenv("POSTROOM_CRASH_TRACE");
    unsetenv("LD_PRELOAD");
}

static void step(const char *op, const char *path) {
    long n = __atomic_add_fetch(&counter, 1, __ATOMIC_SEQ_CST);
    if (trace_fd >= 0) {
        char line[4200];
        int length = snprintf(line, sizeof line, "%ld %s %s\n", n, op, path ? path : "-");
        if (length > 0) syscall(SYS_write, trace_fd, line, (size_t)(length < (int)sizeof line ? length : (int)sizeof line - 1));
    }
    if (n == crash_at) {
        syscall(SYS_kill, syscall(SYS_getpid), crash_signal);
        // SIGSTOP: the harness kills or continues us; continuing performs the step.
    }
}

static const char *fd_path(int fd, char *buffer, size_t size) {
    char link[64];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t length = readlink(link, buffer, size - 1);
    if (length < 0) return "?";
    buffer[length] = 0;
    return buffer;
}

static int is_regular(int fd) {
    struct stat info;
    return fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && fd != trace_fd;
}

#define REAL(name) static __typeof__(&name) real_##name; if (!real_##name) real_##name = (__typeof__(&name))dlsym(RTLD_NEXT, #name)

int open(const char *path, int flags, ...) {
    REAL(open);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    if (flags & O_CREAT) step("open", path);
    return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    REAL(open64);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    if (flags & O_CREAT) step("open", path);
    return real_open64(path, flags, mode);
}

int openat(int dirfd, const char *path, int flags, ...) {
    REAL(openat);
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) { va_list args; va_start(args, flags); mode = va_arg(args, mode_t); va_end(args); }
    if (flags & O_CREAT) step("open", path);
    return real_openat(dirfd, path, flags, mode);
}

ssize_t write(int fd, const void *buffer, size_t count) {
    REAL(write);
    if (is_regular(fd)) { char path[4096]; step("write", fd_path(fd, path, sizeof path)); }
    return real_write(fd, buffer, count);
}

ssize_t pwrite(int fd, const void *buffer, size_t count, off_t offset) {
    REAL(pwrite);
    if (is_regular(fd)) { char path[4096]; step("write", fd_path(fd, path, sizeof path)); }
    return real_pwrite(fd, buffer, count, offset);
}

int fsync(int fd) {
    REAL(fsync);
    char path[4096];
    step("fsync", fd_path(fd, path, sizeof path));
    return real_fsync(fd);
}

int fdatasync(int fd) {
    REAL(fdatasync);
    char path[4096];
    step("fdatasync", fd_path(fd, path, sizeof path));
    return real_fdatasync(fd);
}

int ftruncate(int fd, off_t length) {
    REAL(ftruncate);
    char path[4096];
    step("ftruncate", fd_path(fd, path, sizeof path));
    return real_ftruncate(fd, length);
}

int rename(const char *source, const char *target) {
    REAL(rename);
    step("rename", source);
    return real_rename(source, target);
}

int renameat(int sourcefd, const char *source, int targetfd, const char *target) {
    REAL(renameat);
    step("rename", source);
    return real_renameat(sourcefd, source, targetfd, target);
}

int unlink(const char *path) {
    REAL(unlink);
    step("unlink", path);
    return real_unlink(path);
}

int unlinkat(int dirfd, const char *path, int flags) {
    REAL(unlinkat);
    step("unlink", path);
    return real_unlinkat(dirfd, path, flags);
}

int link(const char *source, const char *target) {
    REAL(link);
    step("link", target);
    return real_link(source, target);
}

#ifndef POSTROOM_CSYSTEM_SHIM_H
#define POSTROOM_CSYSTEM_SHIM_H

#include <sys/types.h>
#include <unistd.h>

/* glibc declares sync_file_range(2) only under _GNU_SOURCE, which Swift's Glibc module does
   not set. Starting writeback of each staged spool file as soon as it is written lets the
   later fdatasync calls find the data already on its way to disk. */
int sync_file_range(int fd, __off64_t offset, __off64_t nbytes, unsigned int flags);

#define POSTROOM_SYNC_FILE_RANGE_WRITE 2

/* pipe2(2), also _GNU_SOURCE only: a pipe whose ends are close-on-exec from the start, so a
   child another thread spawns at that moment cannot inherit them and hold them open. */
int pipe2(int pipefd[2], int flags);

/* A write lock on a whole file through an open file description (F_OFD_SETLK, also
   _GNU_SOURCE only). Spool writers hold one on a file in tmp/ until it is renamed away; it
   never conflicts with the flock(2) that claims use, so a file just published into new/
   can be claimed at once even while its writer still has it open. Returns 0, or -1 with
   errno (EAGAIN or EACCES when another description holds it). */
#include <fcntl.h>
#include <string.h>
static inline int postroom_lock_for_writing(int fd) {
    struct flock lock;
    memset(&lock, 0, sizeof lock);
    lock.l_type = F_WRLCK;
    lock.l_whence = SEEK_SET;
    return fcntl(fd, 37 /* F_OFD_SETLK */, &lock);
}

#endif

#ifndef POSTROOM_CSYSTEM_SHIM_H
#define POSTROOM_CSYSTEM_SHIM_H

#include <unistd.h>

/* glibc declares syncfs(2) only under _GNU_SOURCE, which Swift's Glibc module does not set.
   One syncfs makes a whole batch of staged spool files durable at once. */
int syncfs(int fd);

#endif

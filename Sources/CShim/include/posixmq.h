#ifndef BOXWALK_POSIXMQ_H
#define BOXWALK_POSIXMQ_H
// POSIX message queues (mq_overview(7)). mq_open(3) is variadic, which Swift cannot call, and a
// queue is a file of the calling process's IPC namespace's mqueue file system: the listing reads
// that file system through a detached mount (fsopen(2), fsmount(2)) that is never attached to
// any directory, so nothing is mounted anywhere.

#include <stddef.h>
#include <stdint.h>

/// mq_open(name, O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC, 0600, {maxmsg, msgsize}) in the caller's IPC
/// namespace; on success the queue's inode number goes to `inode` (fstat(2) of the queue
/// descriptor) and the descriptor is closed. 0, or -1 with errno (glibc's EINVAL for a name without
/// a leading slash, the kernel's EEXIST, EACCES, ENAMETOOLONG, EMFILE, ENOSPC).
int bw_mq_create(const char *name, long maxmsg, long msgsize, uint64_t *inode);

/// The inode of the existing queue `name` (mq_open(3) O_RDONLY, then fstat(2)): 0, or -1 with errno.
int bw_mq_inode(const char *name, uint64_t *inode);

/// mq_unlink(3): 0, or -1 with errno.
int bw_mq_unlink(const char *name);

/// The names of every queue of the caller's IPC namespace, without the leading slash, each
/// followed by '\n', into `buffer` (at most `size` bytes; names that do not fit are left out).
/// fsopen("mqueue") + FSCONFIG_CMD_CREATE + fsmount(2) give the namespace's mqueue file system as
/// a detached mount descriptor, read with getdents64(2) and closed. Returns the bytes written, or
/// -1 with errno (EPERM from fsopen without CAP_SYS_ADMIN over the caller's mount namespace).
/// `stage` is set to the call that failed ("fsopen", "fsconfig", "fsmount", "openat", "getdents64").
long bw_mqueue_names(char *buffer, size_t size, const char **stage);

#endif

// See include/posixmq.h.
#define _GNU_SOURCE
#include "posixmq.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "boxmount.h"

int bw_mq_create(const char *name, long maxmsg, long msgsize, uint64_t *inode) {
  struct mq_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.mq_maxmsg = maxmsg;
  attr.mq_msgsize = msgsize;
  mqd_t q = mq_open(name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &attr);
  if (q == (mqd_t)-1) return -1;
  // On Linux a queue descriptor is a file descriptor of the mqueue file system.
  struct stat st;
  if (fstat((int)q, &st) == 0) *inode = (uint64_t)st.st_ino;
  mq_close(q);
  return 0;
}

int bw_mq_inode(const char *name, uint64_t *inode) {
  mqd_t q = mq_open(name, O_RDONLY | O_CLOEXEC);
  if (q == (mqd_t)-1) return -1;
  struct stat st;
  int rc = fstat((int)q, &st);
  int saved = errno;
  if (rc == 0) *inode = (uint64_t)st.st_ino;
  mq_close(q);
  errno = saved;
  return rc;
}

int bw_mq_unlink(const char *name) { return mq_unlink(name); }

long bw_mqueue_names(char *buffer, size_t size, const char **stage) {
  *stage = "fsopen";
  int fs = bw_fsopen("mqueue", BW_FSOPEN_CLOEXEC);
  if (fs < 0) return -1;
  *stage = "fsconfig";
  if (bw_fsconfig_create(fs) < 0) {
    int saved = errno;
    close(fs);
    errno = saved;
    return -1;
  }
  *stage = "fsmount";
  int mnt = bw_fsmount(fs, BW_FSMOUNT_CLOEXEC, BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NODEV | BW_MOUNT_ATTR_NOEXEC);
  int saved = errno;
  close(fs);
  if (mnt < 0) {
    errno = saved;
    return -1;
  }
  // The mount descriptor is an O_PATH one: open the directory itself to read it.
  *stage = "openat";
  int dir = openat(mnt, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  saved = errno;
  close(mnt);
  if (dir < 0) {
    errno = saved;
    return -1;
  }
  *stage = "getdents64";
  size_t used = 0;
  char entries[4096];
  for (;;) {
    long n = syscall(SYS_getdents64, dir, entries, sizeof entries);
    if (n < 0) {
      saved = errno;
      close(dir);
      errno = saved;
      return -1;
    }
    if (n == 0) break;
    for (long at = 0; at < n;) {
      struct dirent64 *e = (struct dirent64 *)(entries + at);
      at += e->d_reclen;
      if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
      size_t len = strlen(e->d_name);
      if (used + len + 1 > size) continue;
      memcpy(buffer + used, e->d_name, len);
      buffer[used + len] = '\n';
      used += len + 1;
    }
  }
  close(dir);
  return (long)used;
}

// See include/layerfs.h.
#define _GNU_SOURCE
#include "layerfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef SYS_openat2
#define SYS_openat2 437 /* Linux 5.6, the same number on every architecture */
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#define SYS_move_mount 429
#endif

// struct open_how of linux/openat2.h.
struct bw_open_how {
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};

int bw_openat2(int dirfd, const char *path, int flags, unsigned int mode, unsigned long long resolve) {
  struct bw_open_how how = {.flags = (uint64_t)(unsigned)flags | O_CLOEXEC, .mode = mode, .resolve = resolve};
  // openat2 rejects a mode without O_CREAT or O_TMPFILE.
  if (!(flags & O_CREAT)) how.mode = 0;
  return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof how);
}

ssize_t bw_fgetxattr(int fd, const char *name, void *value, size_t size) {
  return fgetxattr(fd, name, value, size);
}

int bw_fsetxattr(int fd, const char *name, const void *value, size_t size) {
  return fsetxattr(fd, name, value, size, 0);
}

int bw_mknod_whiteout(int dirfd, const char *name) { return mknodat(dirfd, name, S_IFCHR | 0, makedev(0, 0)); }

int bw_is_whiteout_device(unsigned long long dev) { return major(dev) == 0 && minor(dev) == 0; }

int bw_in_initial_user_namespace(void) {
  int fd = open("/proc/self/uid_map", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char buf[256];
  ssize_t n = read(fd, buf, sizeof buf - 1);
  int err = errno;
  close(fd);
  if (n < 0) {
    errno = err;
    return -1;
  }
  buf[n] = 0;
  // One line, "inside outside count" in columns padded with spaces.
  unsigned long long inside, outside, count;
  char rest;
  if (sscanf(buf, "%llu %llu %llu %c", &inside, &outside, &count, &rest) != 3) return 0;
  return inside == 0 && outside == 0 && count == 4294967295ULL;
}

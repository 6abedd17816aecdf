// See include/boxmount.h.
#define _GNU_SOURCE
#include <sys/sysmacros.h>
#include "boxmount.h"

#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_open_tree
#define SYS_open_tree 428 /* Linux 5.2, the same number on every architecture */
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#define SYS_fsopen 430
#define SYS_fsconfig 431
#define SYS_fsmount 432
#endif

int bw_fsopen(const char *fstype, unsigned int flags) { return (int)syscall(SYS_fsopen, fstype, flags); }

int bw_fsconfig_fd(int fsfd, const char *key, int fd) {
  return (int)syscall(SYS_fsconfig, fsfd, BW_FSCONFIG_SET_FD, key, NULL, fd);
}

int bw_fsconfig_string(int fsfd, const char *key, const char *value) {
  return (int)syscall(SYS_fsconfig, fsfd, 1 /* FSCONFIG_SET_STRING */, key, value, 0);
}

int bw_fsconfig_create(int fsfd) { return (int)syscall(SYS_fsconfig, fsfd, BW_FSCONFIG_CMD_CREATE, NULL, NULL, 0); }

int bw_fsconfig_flag(int fsfd, const char *key) {
  return (int)syscall(SYS_fsconfig, fsfd, 0 /* FSCONFIG_SET_FLAG */, key, NULL, 0);
}

int bw_fsmount(int fsfd, unsigned int flags, unsigned int attrs) {
  return (int)syscall(SYS_fsmount, fsfd, flags, attrs);
}

int bw_open_tree(int dirfd, const char *path, unsigned int flags) {
  return (int)syscall(SYS_open_tree, dirfd, path, flags);
}

int bw_move_mount_fds(int from, int to) {
  return (int)syscall(SYS_move_mount, from, "", to, "", BW_MOVE_MOUNT_F_EMPTY_PATH | BW_MOVE_MOUNT_T_EMPTY_PATH);
}

int bw_move_mount_to_path(int from, const char *path) {
  return (int)syscall(SYS_move_mount, from, "", AT_FDCWD, path, BW_MOVE_MOUNT_F_EMPTY_PATH);
}

unsigned int bw_major(unsigned long long dev) { return major(dev); }
unsigned int bw_minor(unsigned long long dev) { return minor(dev); }

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442 /* Linux 5.12, the same number on every architecture */
#endif

int bw_mount_setattr_fd(int fd, unsigned long long attrs) {
  // struct mount_attr of linux/mount.h: attr_set, attr_clr, propagation, userns_fd.
  unsigned long long attr[4] = {attrs, 0, 0, 0};
  return (int)syscall(SYS_mount_setattr, fd, "", 0x1000 /* AT_EMPTY_PATH */, attr, sizeof attr);
}

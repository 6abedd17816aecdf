// Which user namespace owns a namespace: ioctl(2) NS_GET_USERNS on its /proc/PID/ns file
// (ioctl_ns(2)) returns an fd of the owning user namespace; its inode names it.
#define _GNU_SOURCE
#include "cshim.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BW_NSIO 0xb7
#define BW_NS_GET_USERNS _IO(BW_NSIO, 0x1)

static int bw_owner_of_fd(int nsfd, unsigned long long *inode) {
  int owner = ioctl(nsfd, BW_NS_GET_USERNS);
  if (owner < 0) return -1;
  struct stat st;
  int rc = fstat(owner, &st);
  int err = errno;
  close(owner);
  errno = err;
  if (rc < 0) return -1;
  *inode = (unsigned long long)st.st_ino;
  return 0;
}

int bw_ns_owner_inode(const char *path, unsigned long long *inode) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  int rc = bw_owner_of_fd(fd, inode);
  int err = errno;
  close(fd);
  errno = err;
  return rc;
}

int bw_pid_for_children_owner_inode(pid_t pid, unsigned long long *inode) {
  int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
  if (pidfd < 0) return -1;
  int nsfd = bw_pidfd_pid_for_children_ns(pidfd);
  int err = errno;
  close(pidfd);
  if (nsfd < 0) {
    errno = err;
    return -1;
  }
  int rc = bw_owner_of_fd(nsfd, inode);
  err = errno;
  close(nsfd);
  errno = err;
  return rc;
}

int bw_setresuid(uid_t id) { return setresuid(id, id, id); }
int bw_setresgid(gid_t id) { return setresgid(id, id, id); }

int bw_is_proc_fs(int fd) {
  struct statfs fs;
  if (fstatfs(fd, &fs) != 0) return -1;
  return fs.f_type == 0x9fa0 ? 1 : 0;  // PROC_SUPER_MAGIC (linux/magic.h)
}

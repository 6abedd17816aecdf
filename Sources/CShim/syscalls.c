// One-line system call wrappers, no policy: each returns what the kernel returns, -1 with errno.
#define _GNU_SOURCE
#include "cshim.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <errno.h>
#include <sys/wait.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424 /* Linux 5.1, the same number on every architecture */
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* Linux 5.3, the same number on every architecture */
#endif
#ifndef PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE
#define PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE _IO(0xFF, 6) /* linux/pidfd.h, Linux 6.11 */
#endif

int bw_unshare(int flags) { return unshare(flags); }

int bw_probe_user_namespace(void) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) _exit(unshare(CLONE_NEWUSER) == 0 ? 0 : (errno & 0x7f) + 1);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (!WIFEXITED(status)) return -1;
  if (WEXITSTATUS(status) == 0) return 1;
  errno = WEXITSTATUS(status) - 1;
  return 0;
}

int bw_write_in_user_namespace(int userns_fd, const char *path, const void *data, size_t len) {
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    // Only system calls here: the parent may be multi-threaded (fork(2), "async-signal-safe").
    if (setns(userns_fd, CLONE_NEWUSER) != 0) _exit((errno & 0x7f) + 1);
    // Opened after setns: the kernel judges a map write by the credentials of the opener.
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) _exit((errno & 0x7f) + 1);
    ssize_t n = write(fd, data, len);
    if (n < 0) _exit((errno & 0x7f) + 1);
    _exit(n == (ssize_t)len ? 0 : EIO + 1);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  if (!WIFEXITED(status)) {
    errno = ECHILD;
    return -1;
  }
  if (WEXITSTATUS(status) == 0) return 0;
  errno = WEXITSTATUS(status) - 1;
  return -1;
}

int bw_setns(int fd, int nstype) { return setns(fd, nstype); }

int bw_sethostname(const char *name, size_t len) { return sethostname(name, len); }

int bw_setdomainname(const char *name, size_t len) { return setdomainname(name, len); }

int bw_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
             const void *data) {
  return mount(source, target, fstype, flags, data);
}

int bw_set_pdeathsig(int signo) { return prctl(PR_SET_PDEATHSIG, (unsigned long)signo, 0, 0, 0); }

int bw_set_dumpable(int dumpable) { return prctl(PR_SET_DUMPABLE, (unsigned long)dumpable, 0, 0, 0); }

int bw_set_name(const char *name) { return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0); }

int bw_pidfd_open(pid_t pid, unsigned int flags) { return (int)syscall(SYS_pidfd_open, pid, flags); }

int bw_pidfd_send_signal(int pidfd, int signo) {
  return (int)syscall(SYS_pidfd_send_signal, pidfd, signo, NULL, 0);
}

int bw_pidfd_pid_for_children_ns(int pidfd) {
  return ioctl(pidfd, PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE, 0);
}

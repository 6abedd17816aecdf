// Box processes and the mount calls glibc lacks. See include/boxprocess.h.
#define _GNU_SOURCE
#include "boxprocess.h"
#include "cshim.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#include <linux/capability.h>

// The capabilities a box program keeps: Docker's default set (moby's
// oci/caps/defaults.go lists the same fourteen). Everything else leaves the bounding set before
// execve(2), so not even a root program gets it back: no CAP_SYS_ADMIN (mount, sethostname,
// setns), no CAP_NET_ADMIN (links, routes, firewall), no CAP_SYS_MODULE, CAP_SYS_RAWIO,
// CAP_SYS_TIME, CAP_SYS_BOOT... (capabilities(7), "Capability bounding set").
static const unsigned long long bw_box_capabilities =
    (1ULL << CAP_CHOWN) | (1ULL << CAP_DAC_OVERRIDE) | (1ULL << CAP_FOWNER) | (1ULL << CAP_FSETID) |
    (1ULL << CAP_KILL) | (1ULL << CAP_SETGID) | (1ULL << CAP_SETUID) | (1ULL << CAP_SETPCAP) |
    (1ULL << CAP_NET_BIND_SERVICE) | (1ULL << CAP_NET_RAW) | (1ULL << CAP_SYS_CHROOT) |
    (1ULL << CAP_MKNOD) | (1ULL << CAP_AUDIT_WRITE) | (1ULL << CAP_SETFCAP);

// Drops every other capability from the bounding, inheritable and ambient sets, and from the
// effective and permitted sets. Async-signal-safe: prctl(2) and capget/capset(2) only.
static int bw_drop_capabilities(void) {
  for (int cap = 0; cap < 64; cap++) {
    if (bw_box_capabilities & (1ULL << cap)) continue;
    // EINVAL: the kernel knows no capability with this number; the rest are beyond it too.
    if (prctl(PR_CAPBSET_DROP, (unsigned long)cap, 0, 0, 0) < 0) {
      if (errno == EINVAL) break;
      return -1;
    }
  }
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL) return -1;
  struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  if (syscall(SYS_capget, &header, data) < 0) return -1;
  for (int i = 0; i < 2; i++) {
    unsigned int keep = (unsigned int)(bw_box_capabilities >> (32 * i));
    data[i].effective &= keep;
    data[i].permitted &= keep;
    data[i].inheritable &= keep;
  }
  return (int)syscall(SYS_capset, &header, data);
}

static int bw_host_proc = -1;
static const char *bw_child_oom_adj = "0";

void bw_protect_helper_from_oom(int host_proc) {
  bw_host_proc = host_proc;
  // OOM_SCORE_ADJ_MIN: the OOM killer never picks this process (proc(5), oom_score_adj). Lowering
  // it needs CAP_SYS_RESOURCE, which root has on most machines (not in every VM or container).
  int fd = openat(host_proc, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd >= 0 && write(fd, "-1000", 5) == 5) {
    close(fd);
    return;
  }
  if (fd >= 0) close(fd);
  // Without it, the helper's children raise theirs instead, which anyone may do: +1000 adds the
  // whole memory limit to a child's score when the OOM killer compares the cgroup's processes
  // (oom_badness in mm/oom_kill.c). That outweighs the helper (about 5 MiB of its own pages)
  // under any limit above that; below it, only the -1000 above protects the helper.
  bw_child_oom_adj = "1000";
}

void bw_child_unprotect_from_oom(void) {
  if (bw_host_proc < 0) return;
  // "self" is looked up by the process doing the lookup, so through the helper's descriptor of
  // the host's /proc this is the child's own file, even after pivot_root left no /proc in view.
  int fd = openat(bw_host_proc, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)write(fd, bw_child_oom_adj, strlen(bw_child_oom_adj));
  close(fd);
}

// Child side: the helper is single-threaded, but keep to async-signal-safe calls anyway
// (signal-safety(7)) so this stays correct if that ever changes. Report: first our own PID as the
// box sees it, then, only if something fails, the errno. A pipe that closes after the PID means
// execve(2) succeeded (the pipe is close-on-exec).
static void bw_box_child(const char *path, char *const argv[], char *const envp[], int null_fd,
                         int out_fd, int sync_fd, pid_t parent) {
  pid_t self = getpid();
  (void)write(sync_fd, &self, sizeof self);
  int err = 0;
  // The helper is never the OOM killer's victim; what it starts is, as any process would be.
  bw_child_unprotect_from_oom();
  // Capabilities first: a change of credentials may clear the parent-death signal (prctl(2)).
  if (bw_drop_capabilities() < 0) goto fail;
  if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0, 0, 0) < 0) goto fail;
  // If the helper died before the death signal was armed, we were re-parented: stop. PID 1 of a
  // new pid namespace sees getppid() == 0 (its parent is outside the namespace), which is fine.
  pid_t pp = getppid();
  if (pp != parent && pp != 0) {
    errno = ESRCH;
    goto fail;
  }
  // No new privileges: a setuid binary run in the box does not become root on exec.
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) goto fail;
  if (setpgid(0, 0) < 0) goto fail;
  // stdin: the helper's /dev/null, opened before any pivot_root(2) or chroot(2). Opening it here
  // would fail in a root filesystem without /dev (busybox's layer has none).
  if (dup2(null_fd, 0) < 0) goto fail;
  if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0) goto fail;
  // Every other descriptor closes at exec: nothing of the helper (or the host) crosses (R7).
  if (syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) < 0) goto fail;
  sigset_t none;
  sigemptyset(&none);
  for (int sig = 1; sig < 65; sig++) signal(sig, SIG_DFL);
  sigprocmask(SIG_SETMASK, &none, NULL);
  execve(path, argv, envp);
fail:
  err = errno;
  (void)write(sync_fd, &err, sizeof err);
  _exit(127);
}

int bw_spawn_box_process(const char *path, char *const argv[], char *const envp[], int null_fd,
                         int out_fd, struct bw_box_child *child) {
  int sync[2];
  if (pipe2(sync, O_CLOEXEC) < 0) return -1;
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    close(sync[0]);
    close(sync[1]);
    errno = e;
    return -1;
  }
  if (pid == 0) {
    close(sync[0]);
    bw_box_child(path, argv, envp, null_fd, out_fd, sync[1], parent);
  }
  close(sync[1]);
  pid_t box_pid = 0;
  int err = 0;
  ssize_t n;
  do n = read(sync[0], &box_pid, sizeof box_pid); while (n < 0 && errno == EINTR);
  do n = read(sync[0], &err, sizeof err); while (n < 0 && errno == EINTR);
  close(sync[0]);
  child->host_pid = pid;
  child->box_pid = box_pid;
  if (n == sizeof err) {
    // execve failed: the child has exited; reap it now. If it was PID 1 of a new pid namespace,
    // that namespace is gone with it, as the kernel decides.
    waitpid(pid, NULL, 0);
    errno = err;
    return -1;
  }
  return 0;
}

#ifndef FSCONFIG_SET_STRING
#define FSCONFIG_SET_STRING 1
#define FSCONFIG_SET_FD 5
#define FSCONFIG_CMD_CREATE 6
#endif
#define BW_MOUNT_ATTR_NOSUID 0x00000002
#define BW_MOUNT_ATTR_NODEV 0x00000004
#define BW_MOUNT_ATTR_NOEXEC 0x00000008
#define BW_MOVE_MOUNT_F_EMPTY_PATH 0x00000004

int bw_mount_proc_for_children(const char *target, const char **stage) {
  int pidfd = -1, nsfd = -1, fsfd = -1, mntfd = -1, rc = -1, err = 0;
  *stage = "pidfd_open";
  pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
  if (pidfd < 0) goto out;
  *stage = "ioctl(PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE)";
  nsfd = bw_pidfd_pid_for_children_ns(pidfd);
  if (nsfd < 0) goto out;
  *stage = "fsopen";
  fsfd = (int)syscall(SYS_fsopen, "proc", 1 /* FSOPEN_CLOEXEC */);
  if (fsfd < 0) goto out;
  *stage = "fsconfig(pidns)";
  if (syscall(SYS_fsconfig, fsfd, FSCONFIG_SET_FD, "pidns", NULL, nsfd) < 0) goto out;
  *stage = "fsconfig(FSCONFIG_CMD_CREATE)";
  if (syscall(SYS_fsconfig, fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) goto out;
  *stage = "fsmount";
  mntfd = (int)syscall(SYS_fsmount, fsfd, 1 /* FSMOUNT_CLOEXEC */,
                       BW_MOUNT_ATTR_NOSUID | BW_MOUNT_ATTR_NODEV | BW_MOUNT_ATTR_NOEXEC);
  if (mntfd < 0) goto out;
  *stage = "move_mount";
  if (syscall(SYS_move_mount, mntfd, "", AT_FDCWD, target, BW_MOVE_MOUNT_F_EMPTY_PATH) < 0) goto out;
  rc = 0;
out:
  err = errno;
  if (mntfd >= 0) close(mntfd);
  if (fsfd >= 0) close(fsfd);
  if (nsfd >= 0) close(nsfd);
  if (pidfd >= 0) close(pidfd);
  errno = err;
  return rc;
}

int bw_pivot_root(const char *new_root, const char *put_old) {
  return (int)syscall(SYS_pivot_root, new_root, put_old);
}

#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>

// semctl(2) is variadic, which Swift cannot call; so the whole listing lives here.
int bw_ipc_list(int kind, struct bw_ipc_object *objects, int max) {
  int count = 0, highest = -1;
  if (kind == 0) {
    struct msginfo info;
    highest = msgctl(0, BW_MSG_INFO, (struct msqid_ds *)&info);
  } else if (kind == 1) {
    struct shminfo info;
    highest = shmctl(0, BW_SHM_INFO, (struct shmid_ds *)&info);
  } else {
    struct seminfo info;
    highest = semctl(0, 0, BW_SEM_INFO, &info);
  }
  if (highest < 0) return -1;
  for (int index = 0; index <= highest && count < max; index++) {
    int id;
    key_t key;
    if (kind == 0) {
      struct msqid_ds ds;
      id = msgctl(index, BW_MSG_STAT_ANY, &ds);
      key = ds.msg_perm.__key;
    } else if (kind == 1) {
      struct shmid_ds ds;
      id = shmctl(index, BW_SHM_STAT_ANY, &ds);
      key = ds.shm_perm.__key;
    } else {
      struct semid_ds ds;
      id = semctl(index, 0, BW_SEM_STAT_ANY, &ds);
      key = ds.sem_perm.__key;
    }
    if (id < 0) continue;  // an unused slot
    objects[count].id = id;
    objects[count].key = key;
    count++;
  }
  return count;
}

int bw_ipc_create(int kind, int key) {
  int flags = IPC_CREAT | IPC_EXCL | 0600;
  if (kind == 0) return msgget(key, flags);
  if (kind == 1) return shmget(key, 4096, flags);
  return semget(key, 1, flags);
}

int bw_ipc_remove(int kind, int id) {
  if (kind == 0) return msgctl(id, IPC_RMID, NULL);
  if (kind == 1) return shmctl(id, IPC_RMID, NULL);
  return semctl(id, 0, IPC_RMID);
}

int bw_pipe_cloexec(int fds[2]) { return pipe2(fds, O_CLOEXEC); }

int bw_set_child_subreaper(void) { return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); }

#include <sys/stat.h>

int bw_is_mount_point(const char *path) {
  struct statx stx;
  if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0) return -1;
  if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
    errno = ENOSYS;
    return -1;
  }
  return (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) ? 1 : 0;
}

#include <sys/signalfd.h>

int bw_child_events_open(void) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  // Blocked, SIGCHLD stays pending instead of being delivered (and, with the default action,
  // ignored): the signalfd reports it. Box programs get an empty mask back before execve.
  if (sigprocmask(SIG_BLOCK, &chld, NULL) < 0) return -1;
  return signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
}

void bw_child_events_drain(int fd) {
  struct signalfd_siginfo info;
  while (read(fd, &info, sizeof info) == (ssize_t)sizeof info) {}
}

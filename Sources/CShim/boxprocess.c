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

void bw_protect_helper_from_oom(int host_proc) {
  bw_host_proc = host_proc;
  // OOM_SCORE_ADJ_MIN: the OOM killer never picks this process when the whole machine runs out
  // of memory (proc(5), oom_score_adj). Lowering it needs CAP_SYS_RESOURCE, which root has on most
  // machines (not in every VM or container); without it the helper keeps the default. A box's
  // memory limit never threatens the helper either way: the helper is not in the box's cgroup
  // (bw_enter_box_cgroup below), and a cgroup's OOM killer chooses only among its own processes.
  int fd = openat(host_proc, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)write(fd, "-1000", 5);
  close(fd);
}

void bw_child_unprotect_from_oom(void) {
  if (bw_host_proc < 0) return;
  // "self" is looked up by the process doing the lookup, so through the helper's descriptor of
  // the host's /proc this is the child's own file, even after pivot_root left no /proc in view.
  int fd = openat(bw_host_proc, "self/oom_score_adj", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return;
  (void)write(fd, "0", 1);
  close(fd);
}

// The cgroup.procs files of the box's cgroup, one per hierarchy (cgroup v1 has one per
// controller, v2 one in all), opened by the helper at `cgroup new`.
static int bw_box_cgroup[BW_CGROUP_FILES_MAX];
static int bw_box_cgroup_count = 0;

int bw_set_box_cgroup(const int *fds, int count) {
  if (count < 0 || count > BW_CGROUP_FILES_MAX) {
    errno = EINVAL;
    return -1;
  }
  for (int i = 0; i < bw_box_cgroup_count; i++) close(bw_box_cgroup[i]);
  for (int i = 0; i < count; i++) bw_box_cgroup[i] = fds[i];
  bw_box_cgroup_count = count;
  return 0;
}

int bw_box_cgroup_files(int *fds, int max) {
  int n = bw_box_cgroup_count < max ? bw_box_cgroup_count : max;
  for (int i = 0; i < n; i++) fds[i] = bw_box_cgroup[i];
  return n;
}

int bw_enter_cgroup(const int *fds, int count) {
  // Writing "0" to cgroup.procs moves the writer itself (cgroups(7), "Creating cgroups and moving
  // processes"): no PID to translate between pid namespaces. The kernel checks the move against
  // the credentials and the cgroup namespace of whoever *opened* the file (since Linux 5.16), so a
  // child in a new cgroup or user namespace may still use the helper's descriptor.
  for (int i = 0; i < count; i++) {
    ssize_t n;
    do n = pwrite(fds[i], "0", 1, 0); while (n < 0 && errno == EINTR);
    if (n != 1) return -1;
  }
  return 0;
}

static int bw_box_pids_current = -1;
static int bw_box_pids_max = -1;

void bw_set_box_pids(int current_fd, int max_fd) {
  if (bw_box_pids_current >= 0) close(bw_box_pids_current);
  if (bw_box_pids_max >= 0) close(bw_box_pids_max);
  bw_box_pids_current = current_fd;
  bw_box_pids_max = max_fd;
}

// A cgroup file holding one number, or "max" (-1). pread(2) from 0: each read is a fresh one.
static long long bw_read_count(int fd) {
  char text[32];
  ssize_t n = pread(fd, text, sizeof text - 1, 0);
  if (n <= 0) return -2;
  if (text[0] == 'm') return -1;
  long long value = 0;
  for (ssize_t i = 0; i < n && text[i] >= '0' && text[i] <= '9'; i++) value = value * 10 + (text[i] - '0');
  return value;
}

int bw_enter_box_cgroup(void) {
  if (bw_enter_cgroup(bw_box_cgroup, bw_box_cgroup_count) < 0) return -1;
  if (bw_box_pids_current < 0 || bw_box_pids_max < 0) return 0;
  long long max = bw_read_count(bw_box_pids_max);
  long long current = bw_read_count(bw_box_pids_current);
  if (max < 0 || current < 0 || current <= max) return 0;
  // Past the limit: a fork here fails with EAGAIN and pids.events "max" counts it. Should the box
  // have shrunk meanwhile, the fork succeeds, the probe exits, and this process fits after all.
  pid_t probe = fork();
  if (probe == 0) _exit(0);
  if (probe > 0) {
    while (waitpid(probe, NULL, 0) < 0 && errno == EINTR) {}
    return 0;
  }
  return -1;
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
  // Into the box's cgroup before anything else: what runs next is counted and limited there.
  if (bw_enter_box_cgroup() < 0) {
    err = errno;
    int refused = err == EAGAIN;
    (void)write(sync_fd, &err, sizeof err);
    (void)write(sync_fd, &refused, sizeof refused);
    _exit(127);
  }
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
  // Every other descriptor closes at exec: nothing of the helper (or the host) crosses.
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
  int refused = 0;
  ssize_t m;
  if (n == sizeof err) {
    do m = read(sync[0], &refused, sizeof refused); while (m < 0 && errno == EINTR);
    if (m != sizeof refused) refused = 0;
  }
  close(sync[0]);
  child->host_pid = pid;
  child->box_pid = box_pid;
  child->fork_refused = refused;
  if (n == sizeof err) {
    // execve failed: the child has exited; reap it now. If it was PID 1 of a new pid namespace,
    // that namespace is gone with it, as the kernel decides.
    waitpid(pid, NULL, 0);
    errno = err;
    return -1;
  }
  return 0;
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

// Box processes and the mount calls glibc lacks. See include/boxprocess.h.
#define _GNU_SOURCE
#include "boxprocess.h"
#include "cshim.h"

#include <errno.h>
#include <fcntl.h>
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

// Child side: the helper is single-threaded, but keep to async-signal-safe calls anyway
// (signal-safety(7)) so this stays correct if that ever changes. Report: first our own PID as the
// box sees it, then, only if something fails, the errno. A pipe that closes after the PID means
// execve(2) succeeded (the pipe is close-on-exec).
static void bw_box_child(const char *path, char *const argv[], char *const envp[], int out_fd,
                         int sync_fd, pid_t parent) {
  pid_t self = getpid();
  (void)write(sync_fd, &self, sizeof self);
  int err = 0;
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
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  if (null_fd >= 0) {
    if (dup2(null_fd, 0) < 0) goto fail;
  } else {
    close(0);  // a root filesystem without /dev/null: no stdin at all
  }
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

int bw_spawn_box_process(const char *path, char *const argv[], char *const envp[], int out_fd,
                         struct bw_box_child *child) {
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
    bw_box_child(path, argv, envp, out_fd, sync[1], parent);
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

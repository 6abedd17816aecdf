#ifndef BOXWALK_BOXPROCESS_H
#define BOXWALK_BOXPROCESS_H
// What boxwalk-helper does inside a box: start the box's programs, mount proc for the box's pid
// namespace, switch roots. C only where Swift cannot go (STYLE 1): the code between fork and exec,
// and system calls glibc has no wrapper for.

#include <sys/types.h>

// SysV "stat any" commands (Linux 4.17): list every object of the caller's IPC namespace by index,
// without needing read permission on it. glibc defines them only with _GNU_SOURCE.
#define BW_MSG_STAT_ANY 13
#define BW_SHM_STAT_ANY 15
#define BW_SEM_STAT_ANY 20
#define BW_MSG_INFO 12
#define BW_SHM_INFO 14
#define BW_SEM_INFO 19

/// What bw_spawn_box_process reports about the child it started.
struct bw_box_child {
  pid_t host_pid;  // the child's PID as the helper sees it (the host's pid namespace)
  pid_t box_pid;   // the child's PID as it sees itself: getpid() inside the box's pid namespace
};

/// fork(2) a box process and execve(2) `path` with `argv` and `envp` in it. Its stdin is `null_fd`
/// (/dev/null), stdout and stderr are `out_fd` (a pipe's write end, or /dev/null for the background), every
/// other fd is closed at exec, signals are reset, PR_SET_NO_NEW_PRIVS is set (setuid binaries gain
/// nothing: prctl(2)), it dies with the helper (PR_SET_PDEATHSIG) and it leads a process group of
/// its own, so Ctrl-C can kill it and its children at once. Returns 0, or -1 with errno from the
/// child's failed execve (or from pipe/fork in the parent).
int bw_spawn_box_process(const char *path, char *const argv[], char *const envp[], int null_fd,
                         int out_fd, struct bw_box_child *child);

/// A box's memory limit must stop the box's programs, not the helper that holds the box: the
/// helper sits in the box's cgroup, and the OOM killer picks its victim among the cgroup's
/// processes (mm/oom_kill.c). Sets the caller's oom_score_adj to -1000 (never chosen) through
/// `host_proc`, a descriptor of the host's /proc kept for the children below; where that is not
/// allowed, the children set theirs to +1000 instead.
void bw_protect_helper_from_oom(int host_proc);

/// In a child of the helper, before it runs anything: oom_score_adj back to 0 (or up to +1000, see
/// above), so the OOM killer chooses it before the helper. Async-signal-safe.
void bw_child_unprotect_from_oom(void);

/// Child events for a single-threaded helper that must wait for a child *and* keep reaping the
/// others (signalfd(2)): blocks SIGCHLD in the caller and returns a non-blocking, close-on-exec
/// signalfd that becomes readable when any child changes state, for poll(2). -1 with errno.
int bw_child_events_open(void);

/// Reads every pending SIGCHLD off the signalfd, so poll(2) waits for the next one. A standard
/// signal does not queue: one SIGCHLD can stand for several exits, so the caller then reaps with
/// waitpid(-1, WNOHANG) until nothing is left.
void bw_child_events_drain(int fd);

/// Mount a proc file system at `target` that shows the processes of the calling process's
/// *children's* pid namespace (pid_for_children), with the new mount API (fsopen(2), fsconfig(2)
/// with the "pidns" option of Linux 6.15, fsmount(2), move_mount(2)). A process never enters the
/// pid namespace it unshared, so a plain mount(2) would show the helper's own (the host's).
/// Returns 0, or -1 with errno; `*stage` names the call that failed.
int bw_mount_proc_for_children(const char *target, const char **stage);

/// SIGINT sets a flag instead of killing the REPL (interrupt.c); calls blocked in read(2) or
/// recv(2) return EINTR. Returns sigaction's result.
int bw_install_interrupt_handler(void);
/// Whether SIGINT arrived since the last call; clears the flag.
int bw_interrupt_take(void);

/// One System V IPC object: its id and key.
struct bw_ipc_object {
  int id;
  int key;
};
/// List the objects of one kind (0 message queues, 1 shared memory, 2 semaphore sets) in the
/// caller's IPC namespace, with the *_INFO and *_STAT_ANY commands of msgctl(2), shmctl(2) and
/// semctl(2). Returns how many were stored, or -1 with errno.
int bw_ipc_list(int kind, struct bw_ipc_object *objects, int max);
/// msgget(2) / shmget(2) (4096 bytes) / semget(2) (one semaphore) with IPC_CREAT|IPC_EXCL|0600.
int bw_ipc_create(int kind, int key);
/// IPC_RMID: remove the object with this id.
int bw_ipc_remove(int kind, int id);

/// pipe2(2) with O_CLOEXEC (a _GNU_SOURCE function Swift does not see).
int bw_pipe_cloexec(int fds[2]);
/// prctl(PR_SET_CHILD_SUBREAPER): orphaned descendants are re-parented to the caller.
int bw_set_child_subreaper(void);

/// 1 when `path` is the root of a mount (statx(2) STATX_ATTR_MOUNT_ROOT, Linux 5.8), 0 when it
/// is not, -1 with errno when the kernel cannot say.
int bw_is_mount_point(const char *path);

/// The inode of the user namespace that owns the namespace at `path` (/proc/PID/ns/KIND), with
/// ioctl_ns(2) NS_GET_USERNS. 0, or -1 with errno.
int bw_ns_owner_inode(const char *path, unsigned long long *inode);
/// The same for a process's pid_for_children namespace, through a pidfd (the /proc entry does not
/// open until the namespace has a process).
int bw_pid_for_children_owner_inode(pid_t pid, unsigned long long *inode);

/// setresuid(2) / setresgid(2) with the same ID for real, effective and saved (_GNU_SOURCE only).
int bw_setresuid(uid_t id);
int bw_setresgid(gid_t id);

/// pivot_root(2), which glibc does not wrap.
int bw_pivot_root(const char *new_root, const char *put_old);

#endif

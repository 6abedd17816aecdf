#ifndef BOXWALK_BOXPROCESS_H
#define BOXWALK_BOXPROCESS_H
// What boxwalk-helper does inside a box: start the box's programs, mount proc for the box's pid
// namespace, switch roots. C only where Swift cannot go: the code between fork and exec,
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
  int fork_refused;  // 1: the box's cgroup refused the new process (pids.max), errno EAGAIN
};

/// fork(2) a box process and execve(2) `path` with `argv` and `envp` in it. Its stdin is `null_fd`
/// (/dev/null), stdout and stderr are `out_fd` (a pipe's write end, or /dev/null for the background), every
/// other fd is closed at exec, signals are reset, PR_SET_NO_NEW_PRIVS is set (setuid binaries gain
/// nothing: prctl(2)), it dies with the helper (PR_SET_PDEATHSIG) and it leads a process group of
/// its own, so Ctrl-C can kill it and its children at once. Returns 0, or -1 with errno from the
/// child's failed execve (or from pipe/fork in the parent).
int bw_spawn_box_process(const char *path, char *const argv[], char *const envp[], int null_fd,
                         int out_fd, struct bw_box_child *child);

/// The helper's own protection from the machine's OOM killer: oom_score_adj -1000 (never
/// chosen) through `host_proc`, a descriptor of the host's /proc kept for the children below,
/// where CAP_SYS_RESOURCE allows it. Against a box's memory limit the helper needs no protection:
/// it stays outside the box's cgroup.
void bw_protect_helper_from_oom(int host_proc);

/// In a child of the helper, before it runs anything: oom_score_adj back to 0, as any process
/// has. Async-signal-safe.
void bw_child_unprotect_from_oom(void);

/// At most this many cgroup.procs files: one per cgroup v1 hierarchy boxwalk uses.
#define BW_CGROUP_FILES_MAX 8

/// The box's cgroup: descriptors of its cgroup.procs files (opened O_WRONLY|O_CLOEXEC by the
/// helper, which stays outside the cgroup), kept for every process the helper starts later.
/// Takes ownership of the descriptors and closes the ones set before. -1 with EINVAL for too many.
int bw_set_box_cgroup(const int *fds, int count);

/// The box's pids.current and pids.max, opened read-only (or -1 when the box has no pids
/// controller), for bw_enter_box_cgroup. Takes ownership of the descriptors.
void bw_set_box_pids(int current_fd, int max_fd);

/// Copies up to `max` of the descriptors set above into `fds`; returns how many.
int bw_box_cgroup_files(int *fds, int max);

/// Moves the calling process into the cgroup of each cgroup.procs descriptor, by writing "0".
/// Returns 0, or -1 with errno. Async-signal-safe.
int bw_enter_cgroup(const int *fds, int count);

/// bw_enter_cgroup with the box's descriptors (nothing when the box has no cgroup): what a child
/// of the helper does first, so every box process is counted and limited by the box's cgroup
/// while the helper, outside it, is not. The fork itself happened in the helper's cgroup, and a
/// move into a cgroup is never refused for pids.max (cgroup-v2.rst, "PID"), so when the move
/// left the box past its pids.max, the child lets the kernel refuse a fork there, which counts
/// the refusal in pids.events as a refused fork of the box would, and returns -1 with EAGAIN.
/// Async-signal-safe.
int bw_enter_box_cgroup(void);

/// Child events for a single-threaded helper that must wait for a child *and* keep reaping the
/// others (signalfd(2)): blocks SIGCHLD in the caller and returns a non-blocking, close-on-exec
/// signalfd that becomes readable when any child changes state, for poll(2). -1 with errno.
int bw_child_events_open(void);

/// Reads every pending SIGCHLD off the signalfd, so poll(2) waits for the next one. A standard
/// signal does not queue: one SIGCHLD can stand for several exits, so the caller then reaps with
/// waitpid(-1, WNOHANG) until nothing is left.
void bw_child_events_drain(int fd);

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

/// 1 when `fd` is on a proc file system (fstatfs(2) f_type PROC_SUPER_MAGIC), 0 when it is on
/// another, -1 with errno when the kernel cannot say (statfs is not in Swift's Glibc module).
int bw_is_proc_fs(int fd);

/// setresuid(2) / setresgid(2) with the same ID for real, effective and saved (_GNU_SOURCE only).
int bw_setresuid(uid_t id);
int bw_setresgid(gid_t id);

/// pivot_root(2), which glibc does not wrap.
int bw_pivot_root(const char *new_root, const char *put_old);

#endif

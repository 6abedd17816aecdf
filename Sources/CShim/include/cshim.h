// CShim: the little C that boxwalk needs because Swift cannot import it, and no policy.
//
// - Namespace constants: glibc only declares CLONE_NEW* and unshare(2)/setns(2) under _GNU_SOURCE,
//   which Swift's Glibc module does not define. The header re-exports them with a bw_ prefix and a
//   fallback value for old headers.
// - One-line wrappers for system calls Swift cannot call (variadic prctl(2), syscall(2)). Every
//   wrapper returns what the kernel returns: -1 with errno set on failure. No policy lives here.
// - bw_spawn_helper: fork, child setup, execve. Everything between fork and exec is C.
// - The fatal-signal teardown for the REPL (bw_emergency_*), async-signal-safe.
#ifndef BOXWALK_CSHIM_H
#define BOXWALK_CSHIM_H

#include <sched.h>
#include <stddef.h>
#include <sys/types.h>

// linux/sched.h values. Without _GNU_SOURCE (as when Swift imports this header) <sched.h> does not
// define them, so these fallbacks are what Swift sees; C code built with _GNU_SOURCE gets glibc's.
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080 /* Linux 5.6 */
#endif
#ifndef CLONE_NEWNS
#define CLONE_NEWNS 0x00020000
#endif
#ifndef CLONE_NEWCGROUP
#define CLONE_NEWCGROUP 0x02000000 /* Linux 4.6 */
#endif
#ifndef CLONE_NEWUTS
#define CLONE_NEWUTS 0x04000000
#endif
#ifndef CLONE_NEWIPC
#define CLONE_NEWIPC 0x08000000
#endif
#ifndef CLONE_NEWUSER
#define CLONE_NEWUSER 0x10000000
#endif
#ifndef CLONE_NEWPID
#define CLONE_NEWPID 0x20000000
#endif
#ifndef CLONE_NEWNET
#define CLONE_NEWNET 0x40000000
#endif

/// The namespace flags under boxwalk's prefix, the names Swift code uses.
enum {
  BW_CLONE_NEWTIME = CLONE_NEWTIME,
  BW_CLONE_NEWNS = CLONE_NEWNS,
  BW_CLONE_NEWCGROUP = CLONE_NEWCGROUP,
  BW_CLONE_NEWUTS = CLONE_NEWUTS,
  BW_CLONE_NEWIPC = CLONE_NEWIPC,
  BW_CLONE_NEWUSER = CLONE_NEWUSER,
  BW_CLONE_NEWPID = CLONE_NEWPID,
  BW_CLONE_NEWNET = CLONE_NEWNET,
};

// MARK: - System call wrappers (each returns -1 and leaves errno on failure)

/// unshare(2): move the calling process into new namespaces of the kinds in `flags`. For
/// CLONE_NEWPID and CLONE_NEWTIME only the caller's future children enter the new namespace.
/// CLONE_NEWUSER fails with EINVAL in a multi-threaded process: that is why a helper does this.
int bw_unshare(int flags);

/// Whether this user may create a user namespace: fork(2), unshare(CLONE_NEWUSER) in the child,
/// _exit with the answer. 1 yes, 0 no (errno says why), -1 fork failed. The child is
/// single-threaded, so the answer is about the kernel's rules (sysctls, LSMs), not about us.
int bw_probe_user_namespace(void);

/// Writes `len` bytes of `data` to `path` in one write(2), from inside the user namespace that
/// `userns_fd` refers to: fork(2); the child joins it with setns(2), opens `path` and writes,
/// then _exits with the result. For /proc/PID/uid_map and gid_map, which the kernel lets only a
/// process in the target's own user namespace or its parent write (user_namespaces(7)): the
/// rootless backend's boxes make their user namespaces inside the session's, so the map of one
/// is written from there. The child is single-threaded, so it may join a user namespace, which
/// a multi-threaded process may not. 0 on success, else -1 with errno (of setns, open or write).
int bw_write_in_user_namespace(int userns_fd, const char *path, const void *data, size_t len);

/// setns(2): move the calling thread into the namespace that `fd` refers to (an open
/// /proc/PID/ns/ENTRY file). `nstype` is the CLONE_NEW* flag it must be, or 0 for any.
int bw_setns(int fd, int nstype);

/// sethostname(2): set the nodename of the caller's UTS namespace (what uname(2) reports).
/// Needs CAP_SYS_ADMIN in the user namespace that owns that UTS namespace.
int bw_sethostname(const char *name, size_t len);

/// setdomainname(2): set the NIS domain name of the caller's UTS namespace.
int bw_setdomainname(const char *name, size_t len);

/// mount(2): attach a filesystem, or with MS_REC|MS_PRIVATE (and no source) change the propagation
/// type of a mount tree (mount_namespaces(7), "Shared subtrees").
int bw_mount(const char *source, const char *target, const char *fstype, unsigned long flags,
             const void *data);

/// prctl(2) PR_SET_PDEATHSIG: ask the kernel to send `signo` to the caller when the thread that
/// created it exits. Cleared by the kernel on a change of credentials: set it again after one.
int bw_set_pdeathsig(int signo);

/// prctl(2) PR_SET_DUMPABLE: 0 makes the process non-dumpable (no core dump, and /proc/PID files
/// and ptrace(2) are reserved to the owner with CAP_SYS_PTRACE).
int bw_set_dumpable(int dumpable);

/// prctl(2) PR_SET_NAME: set the calling thread's comm (/proc/PID/comm, 15 bytes at most).
int bw_set_name(const char *name);

/// pidfd_open(2): a file descriptor that refers to process `pid` itself, not to a number the
/// kernel may hand to another process later. Signals sent through it can never hit a recycled PID.
int bw_pidfd_open(pid_t pid, unsigned int flags);

/// pidfd_send_signal(2): send `signo` to the process a pidfd refers to.
int bw_pidfd_send_signal(int pidfd, int signo);

/// ioctl(2) PIDFD_GET_PID_FOR_CHILDREN_NAMESPACE (Linux 6.11): an fd for the PID namespace the
/// process's future children will be in. /proc/PID/ns/pid_for_children gives ENOENT until the
/// first child of a new PID namespace exists (it has no init yet); this ioctl works before that.
int bw_pidfd_pid_for_children_ns(int pidfd);

// MARK: - Spawning a helper

/// What bw_spawn_helper returns: 0, or the negative stage that failed (errno says why).
enum bw_spawn_stage {
  BW_SPAWN_OK = 0,
  BW_SPAWN_FORK = -1,          // pipe2(2) or fork(2) in the parent
  BW_SPAWN_PDEATHSIG = -2,     // prctl(PR_SET_PDEATHSIG) in the child
  BW_SPAWN_PARENT_GONE = -3,   // the parent died before the death signal was armed (ESRCH)
  BW_SPAWN_SETSID = -4,        // setsid(2)
  BW_SPAWN_FDS = -5,           // dup2(2) of the socket to fd 3, /dev/null on fd 0, close-on-exec
  BW_SPAWN_SIGNALS = -6,       // resetting signal dispositions and mask
  BW_SPAWN_EXEC = -7,          // execve(2)
};

/// fork(2) a child that runs `path` with `argv` and the socket `sockfd` as its fd 3; on success
/// store its pid in `*pid_out` and return 0. The child: dies with SIGKILL when the calling thread
/// dies (PR_SET_PDEATHSIG), is in a session of its own (setsid), has /dev/null as stdin, fd 3 =
/// the socket, every other fd >= 3 closed at exec, default signal dispositions and an empty mask,
/// and a minimal environment. A failure before or at execve(2) comes back as its errno over a
/// close-on-exec pipe: the child is reaped, errno is set and the failing stage is returned.
int bw_spawn_helper(const char *path, char *const argv[], int sockfd, pid_t *pid_out);

// MARK: - Fatal-signal teardown (for the REPL)

/// Register a helper pid to SIGKILL if the REPL gets SIGTERM or SIGHUP. Returns -1 (ENOSPC) when
/// the fixed table (256 pids) is full. Safe to call from any thread.
int bw_emergency_add_pid(pid_t pid);

/// Forget a pid. Call it before killing and reaping the helper yourself, so the handler never
/// signals a pid the kernel may already have given to another process.
void bw_emergency_remove_pid(pid_t pid);

/// The session's ledger file and directory: the handler hands the directory to the cleanup it
/// execs (bw_emergency_set_cleanup), or leaves the ledger in place. NULL for both forgets them. Paths longer than PATH_MAX - 1 are refused (-1, ENAMETOOLONG).
/// One session per process: a later call replaces the earlier paths.
int bw_emergency_set_ledger(const char *file, const char *dir);

/// Forget the ledger paths only if they are still `file` (so one session cannot forget another's).
void bw_emergency_clear_ledger(const char *file);

/// The executable the fatal-signal handler execs as `EXE cleanup --after-signal SIGNO SESSIONDIR`
/// once the helpers are dead (boxwalk's own binary, from /proc/self/exe). NULL forgets it.
int bw_emergency_set_cleanup(const char *exe);

/// Install SIGTERM and SIGHUP handlers that SIGKILL and reap every registered pid, unlink the
/// ledger file, remove its directory and _exit(128 + signo). The handler calls only
/// async-signal-safe functions (signal-safety(7)): kill, waitpid, unlink, rmdir, _exit.
int bw_install_fatal_signal_handlers(void);

/// The same teardown for SIGINT, exit 130: for a REPL with no terminal (input from a pipe).
int bw_install_fatal_interrupt_handler(void);

/// For a daemon's client: SIGTERM, SIGHUP (and SIGINT when `with_interrupt`) write their number
/// as one byte to `fd` (a pipe's write end) and nothing else; the client reads it on a thread,
/// deletes the sessions it made in the daemon and exits 128 + signo.
int bw_install_client_signal_handlers(int fd, int with_interrupt);

// Box processes, proc for a pid namespace, pivot_root (used by boxwalk-helper).
#include "boxprocess.h"
// The stress programs a box process runs against its cgroup limits.
#include "stress.h"
// openat2, xattrs, whiteouts, the overlay mount.
#include "layerfs.h"
// POSIX message queues: mq_open (variadic), and the listing of an IPC namespace's queues.
#include "posixmq.h"

#endif

// bw_spawn_helper: fork, set the child up, execve; everything between fork and exec is C. The shape
// follows swift-subprocess process_shims.c and apple/containerization exec_command.c: errors travel
// over a close-on-exec pipe, so "the pipe closed with nothing in it" means execve succeeded.
#define _GNU_SOURCE
#include "cshim.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_close_range
#define SYS_close_range 436 /* Linux 5.9, the same number on every architecture */
#endif
#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2) /* Linux 5.11 */
#endif

// The helper's whole environment: nothing of the REPL's environment crosses into a box.
static char *const bw_helper_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", NULL};

// Child side. The REPL may be multi-threaded, so after fork(2) the child may call only
// async-signal-safe functions (signal-safety(7)): another thread may have held the malloc lock at
// the moment of the fork. Everything below is a direct system call: no malloc, no stdio, no locks.

// Report the stage and errno to the parent and exit. write(2) and _exit(2) are async-signal-safe.
static void bw_child_fail(int errfd, int stage) {
  int report[2] = {stage, errno};
  ssize_t n;
  do {
    n = write(errfd, report, sizeof report);
  } while (n < 0 && errno == EINTR);
  _exit(127);
}

// Make `fd` the descriptor `target`, open across execve(2). dup2(2) clears close-on-exec on the
// copy, but dup2(fd, fd) does nothing at all, so that case clears the flag itself.
static int bw_child_place(int fd, int target) {
  if (fd == target) return fcntl(fd, F_SETFD, 0);
  return dup2(fd, target) < 0 ? -1 : 0;
}

static void bw_child(const char *path, char *const argv[], int sockfd, int errfd, pid_t parent,
                     int max_fd) {
  // Die with the thread that forked us (prctl(2)), then check that the parent did not die before
  // the death signal was armed: systemd's safe_fork and bubblewrap do the same.
  if (prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0, 0, 0) < 0) {
    bw_child_fail(errfd, BW_SPAWN_PDEATHSIG);
  }
  if (getppid() != parent) {
    errno = ESRCH;
    bw_child_fail(errfd, BW_SPAWN_PARENT_GONE);
  }
  // A session of its own: no controlling terminal, and the REPL's Ctrl-C never reaches it.
  if (setsid() < 0) bw_child_fail(errfd, BW_SPAWN_SETSID);

  // Descriptors. Move the error pipe above 3 first, so placing the socket on 3 cannot clobber it.
  if (errfd <= 3) {
    int moved = fcntl(errfd, F_DUPFD_CLOEXEC, 4);
    if (moved < 0) bw_child_fail(errfd, BW_SPAWN_FDS);
    errfd = moved;
  }
  if (sockfd <= 2) {  // would be clobbered by the /dev/null below: move it up first
    int moved = fcntl(sockfd, F_DUPFD_CLOEXEC, 4);
    if (moved < 0) bw_child_fail(errfd, BW_SPAWN_FDS);
    sockfd = moved;
  }
  if (bw_child_place(sockfd, 3) < 0) bw_child_fail(errfd, BW_SPAWN_FDS);
  // stdin is /dev/null: the helper never reads the terminal the REPL reads. stdout and stderr stay
  // (a crashing helper's last words are worth seeing), or become /dev/null if they are closed.
  int null = open("/dev/null", O_RDWR | O_CLOEXEC);
  if (null < 0) bw_child_fail(errfd, BW_SPAWN_FDS);
  if (bw_child_place(null, 0) < 0) bw_child_fail(errfd, BW_SPAWN_FDS);
  for (int fd = 1; fd <= 2; fd++) {
    int open_now = fd == null ? 0 : fcntl(fd, F_GETFD) >= 0;
    if (!open_now && bw_child_place(null, fd) < 0) bw_child_fail(errfd, BW_SPAWN_FDS);
  }
  // Every other descriptor >= 4 closes at execve, the error pipe included (it is close-on-exec
  // already, which is how the parent learns that execve worked). close_range(2) does it in one
  // call; older kernels get a loop of fcntl(2) up to the limit the parent read before fork.
  if (syscall(SYS_close_range, 4U, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
    for (int fd = 4; fd < max_fd; fd++) (void)fcntl(fd, F_SETFD, FD_CLOEXEC);
  }

  // Signals: default dispositions (a handler address means nothing after execve anyway, but an
  // ignored signal would stay ignored), then an empty mask. The parent blocked every signal
  // around fork, so no REPL handler can run in this child before this point.
  struct sigaction dfl = {0};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; sig++) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    (void)sigaction(sig, &dfl, NULL);  // EINVAL for the two signals glibc keeps for itself: fine
  }
  sigset_t empty;
  sigemptyset(&empty);
  if (sigprocmask(SIG_SETMASK, &empty, NULL) < 0) bw_child_fail(errfd, BW_SPAWN_SIGNALS);

  execve(path, argv, bw_helper_env);
  bw_child_fail(errfd, BW_SPAWN_EXEC);
}

struct bw_child_args {
  const char *path;
  char *const *argv;
  int sockfd, errfd, max_fd;
  pid_t parent;
};

static int bw_child_entry(void *p) {
  const struct bw_child_args *a = p;
  bw_child(a->path, a->argv, a->sockfd, a->errfd, a->parent, a->max_fd);  // does not return
  return 127;
}

int bw_spawn_helper(const char *path, char *const argv[], int sockfd, pid_t *pid_out) {
  struct rlimit lim;
  int max_fd = 65536;
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY &&
      lim.rlim_cur < (1U << 20)) {
    max_fd = (int)lim.rlim_cur;
  }
  int pipefd[2];
  if (pipe2(pipefd, O_CLOEXEC) < 0) return BW_SPAWN_FORK;
  pid_t parent = getpid();

  // Block every signal across the clone so the child cannot run one of the REPL's handlers before
  // it has reset them (posix_spawn(3) in glibc does the same).
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  // clone(2) with CLONE_VM | CLONE_VFORK, as glibc's posix_spawn(3) does, instead of fork(2): the
  // child borrows the REPL's memory until execve(2) rather than getting a copy of its page tables,
  // and the REPL, suspended meanwhile, then takes no copy-on-write faults on every page it
  // touches. That copy and those faults were a third of `box new` (perf). The child runs on its
  // own stack, this array, which lives until it has exec'd or exited; it only reads its
  // arguments and makes system calls (it may leave a value in errno, which is ours to overwrite).
  struct bw_child_args args = {path, argv, sockfd, pipefd[1], max_fd, parent};
  _Alignas(16) char stack[16384];
  pid_t pid = clone(bw_child_entry, stack + sizeof stack, CLONE_VM | CLONE_VFORK | SIGCHLD, &args);
  int fork_errno = errno;
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  close(pipefd[1]);
  if (pid < 0) {
    close(pipefd[0]);
    errno = fork_errno;
    return BW_SPAWN_FORK;
  }

  int report[2];
  ssize_t n;
  do {
    n = read(pipefd[0], report, sizeof report);
  } while (n < 0 && errno == EINTR);
  int read_errno = errno;
  close(pipefd[0]);
  if (n == 0) {  // closed by execve: the helper runs
    *pid_out = pid;
    return BW_SPAWN_OK;
  }
  if (n < 0) (void)kill(pid, SIGKILL);  // cannot tell what the child is doing: stop it
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n == (ssize_t)sizeof report) {
    errno = report[1];
    return report[0];
  }
  errno = n < 0 ? read_errno : EPROTO;
  return BW_SPAWN_FORK;
}

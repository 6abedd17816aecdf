// Fatal-signal teardown for the REPL. If the REPL is told to die (SIGTERM from a shutdown, SIGHUP
// from a closed terminal) its normal teardown never runs; this handler does the essential part.
// (SIGKILL cannot be caught: there PR_SET_PDEATHSIG kills the helpers and `boxwalk cleanup`
// removes the rest from the ledger.)
//
// Everything here is async-signal-safe (signal-safety(7)): fixed-size static storage written with
// atomic stores, no malloc, no stdio, no locks; the handler calls only kill, waitpid, unlink, rmdir
// and _exit.
#define _GNU_SOURCE
#include "cshim.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define BW_EMERGENCY_MAX_PIDS 256

static pid_t bw_pids[BW_EMERGENCY_MAX_PIDS];  // 0 = free slot
static char bw_ledger_file[PATH_MAX];
static char bw_ledger_dir[PATH_MAX];
static int bw_ledger_valid;  // 1 when both paths above are complete
static char bw_cleanup_exe[PATH_MAX];
static int bw_cleanup_valid;  // 1 when bw_cleanup_exe holds boxwalk's own executable

extern char **environ;

int bw_emergency_set_cleanup(const char *exe) {
  __atomic_store_n(&bw_cleanup_valid, 0, __ATOMIC_SEQ_CST);
  if (exe == NULL) return 0;
  size_t len = strlen(exe);
  if (len >= PATH_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(bw_cleanup_exe, exe, len + 1);
  __atomic_store_n(&bw_cleanup_valid, 1, __ATOMIC_SEQ_CST);
  return 0;
}

int bw_emergency_add_pid(pid_t pid) {
  if (pid <= 0) {
    errno = EINVAL;
    return -1;
  }
  for (int i = 0; i < BW_EMERGENCY_MAX_PIDS; i++) {
    pid_t expected = 0;
    if (__atomic_compare_exchange_n(&bw_pids[i], &expected, pid, 0, __ATOMIC_SEQ_CST,
                                    __ATOMIC_SEQ_CST)) {
      return 0;
    }
  }
  errno = ENOSPC;
  return -1;
}

void bw_emergency_remove_pid(pid_t pid) {
  for (int i = 0; i < BW_EMERGENCY_MAX_PIDS; i++) {
    pid_t expected = pid;
    (void)__atomic_compare_exchange_n(&bw_pids[i], &expected, 0, 0, __ATOMIC_SEQ_CST,
                                      __ATOMIC_SEQ_CST);
  }
}

int bw_emergency_set_ledger(const char *file, const char *dir) {
  __atomic_store_n(&bw_ledger_valid, 0, __ATOMIC_SEQ_CST);
  if (file == NULL || dir == NULL) return 0;
  size_t flen = strlen(file), dlen = strlen(dir);
  if (flen >= PATH_MAX || dlen >= PATH_MAX) {
    errno = ENAMETOOLONG;
    return -1;
  }
  memcpy(bw_ledger_file, file, flen + 1);
  memcpy(bw_ledger_dir, dir, dlen + 1);
  __atomic_store_n(&bw_ledger_valid, 1, __ATOMIC_SEQ_CST);
  return 0;
}

void bw_emergency_clear_ledger(const char *file) {
  if (file != NULL && __atomic_load_n(&bw_ledger_valid, __ATOMIC_SEQ_CST) &&
      strcmp(file, bw_ledger_file) == 0) {
    __atomic_store_n(&bw_ledger_valid, 0, __ATOMIC_SEQ_CST);
  }
}

static void bw_fatal_signal(int signo) {
  for (int i = 0; i < BW_EMERGENCY_MAX_PIDS; i++) {
    pid_t pid = __atomic_exchange_n(&bw_pids[i], 0, __ATOMIC_SEQ_CST);
    if (pid <= 0) continue;
    // The helpers are our children and not yet reaped, so this pid cannot have been recycled.
    (void)kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
  }
  // The rest of the teardown (scratch directories, cgroups, IPC objects the ledger records) is
  // too much for a signal handler. execve(2) is async-signal-safe: become `boxwalk cleanup` for
  // this one session, which works from the ledger and removes it last, then exits 128+signo.
  // Descriptors are close-on-exec, so the state root's flock goes with the old image.
  if (__atomic_load_n(&bw_ledger_valid, __ATOMIC_SEQ_CST) &&
      __atomic_load_n(&bw_cleanup_valid, __ATOMIC_SEQ_CST)) {
    char number[4] = {0};
    int n = signo > 0 && signo < 1000 ? signo : 0, at = 0;
    if (n >= 100) number[at++] = (char)('0' + n / 100);
    if (n >= 10) number[at++] = (char)('0' + (n / 10) % 10);
    number[at] = (char)('0' + n % 10);
    char *argv[] = {bw_cleanup_exe, "cleanup", "--after-signal", number, bw_ledger_dir, NULL};
    execve(bw_cleanup_exe, argv, environ);
  }
  // No way to run it: leave the ledger where it is, so `boxwalk cleanup` or the next start finds
  // everything it records. (Removing it here would orphan the rest.)
  _exit(128 + signo);
}

int bw_install_fatal_signal_handlers(void) {
  struct sigaction sa = {0};
  sa.sa_handler = bw_fatal_signal;
  // Block the other fatal signal while one is handled, so the teardown runs once.
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGHUP);
  sigaddset(&sa.sa_mask, SIGINT);
  if (sigaction(SIGTERM, &sa, NULL) < 0) return -1;
  if (sigaction(SIGHUP, &sa, NULL) < 0) return -1;
  // A REPL started with these signals blocked (some launchers do that) would never tear down.
  sigset_t fatal;
  sigemptyset(&fatal);
  sigaddset(&fatal, SIGTERM);
  sigaddset(&fatal, SIGHUP);
  sigaddset(&fatal, SIGINT);
  return sigprocmask(SIG_UNBLOCK, &fatal, NULL);
}

int bw_install_fatal_interrupt_handler(void) {
  // With no terminal there is no line to clear: Ctrl-C (SIGINT) ends the session like SIGTERM,
  // with the same teardown, and exit status 130.
  struct sigaction sa = {0};
  sa.sa_handler = bw_fatal_signal;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, SIGTERM);
  sigaddset(&sa.sa_mask, SIGHUP);
  return sigaction(SIGINT, &sa, NULL);
}

// The client side of a daemon (`boxwalk --host ...`) has no helpers and no ledger: what a signal
// must end is the session it made in the daemon, which takes an HTTP request, far beyond a
// signal handler. So the handler only writes the signal's number to a pipe (write(2) is
// async-signal-safe); a thread of the client's waits on the other end and does the rest.
static int bw_client_signal_fd = -1;

static void bw_client_on_signal(int signo) {
  int saved = errno;
  unsigned char byte = (unsigned char)signo;
  int fd = __atomic_load_n(&bw_client_signal_fd, __ATOMIC_SEQ_CST);
  if (fd >= 0) (void)write(fd, &byte, 1);
  errno = saved;
}

int bw_install_client_signal_handlers(int fd, int with_interrupt) {
  __atomic_store_n(&bw_client_signal_fd, fd, __ATOMIC_SEQ_CST);
  struct sigaction sa = {0};
  sa.sa_handler = bw_client_on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;  // the REPL's reads go on; the thread on the pipe ends the process
  if (sigaction(SIGTERM, &sa, NULL) < 0) return -1;
  if (sigaction(SIGHUP, &sa, NULL) < 0) return -1;
  if (with_interrupt && sigaction(SIGINT, &sa, NULL) < 0) return -1;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  if (with_interrupt) sigaddset(&set, SIGINT);
  return sigprocmask(SIG_UNBLOCK, &set, NULL);
}

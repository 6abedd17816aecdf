// The stress helpers behind `stress memory|fork|cpu` (stress.h says what each one measures).
#define _GNU_SOURCE
#include <sys/wait.h>
#include <fcntl.h>
#include "stress.h"
#include "boxprocess.h"

#include <errno.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

int bw_stress_memory(size_t bytes, volatile size_t *touched) {
  if (touched) *touched = 0;
  if (bytes == 0) return 0;
  // MAP_PRIVATE|MAP_ANONYMOUS memory is only promised: no page exists until it is first written.
  char *memory = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) return -1;
  long page = sysconf(_SC_PAGESIZE);
  size_t step = page > 0 ? (size_t)page : 4096;
  for (size_t offset = 0; offset < bytes; offset += step) {
    // A write fault makes the kernel allocate the page and charge it to our memory cgroup. Writing
    // a non-zero byte keeps the kernel from sharing one zero page (reads would).
    ((volatile char *)memory)[offset] = 1;
    if (touched) *touched = (offset + step < bytes) ? offset + step : bytes;
  }
  munmap(memory, bytes);
  return 0;
}

int bw_stress_fork(int count, pid_t *pids, int *started, int *refused) {
  *started = 0;
  *refused = 0;
  pid_t parent = getpid();
  for (int i = 0; i < count; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      // Child: async-signal-safe calls only (the parent may have had other threads holding locks).
      // Die with the parent (prctl(2)); if it is already gone, there is no one to wait for.
      prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0, 0, 0);
      if (getppid() != parent) _exit(0);
      for (;;) pause();
    }
    if (pid > 0) {
      pids[(*started)++] = pid;
    } else if (errno == EAGAIN) {
      // The pids controller refuses a fork past pids.max with EAGAIN (kernel/cgroup/pids.c).
      (*refused)++;
    } else {
      return -1;
    }
  }
  return 0;
}

static uint64_t bw_now_ns(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int bw_stress_cpu(double seconds, struct bw_stress_cpu_result *result) {
  // At most a day: a typo should not pin a CPU for a year.
  if (!(seconds >= 0 && seconds <= 86400)) {
    errno = EINVAL;
    return -1;
  }
  const uint64_t gap = 1000000;  // 1 ms: far longer than one turn of the loop (well under 1 us)
  uint64_t duration = (uint64_t)(seconds * 1e9);
  uint64_t cpu_start = bw_now_ns(CLOCK_THREAD_CPUTIME_ID);
  uint64_t start = bw_now_ns(CLOCK_MONOTONIC);
  uint64_t last = start, now = start;
  result->stalled_ns = 0;
  result->stalls = 0;
  while (now - start < duration) {
    now = bw_now_ns(CLOCK_MONOTONIC);
    if (now - last > gap) {
      result->stalled_ns += now - last;
      result->stalls++;
    }
    last = now;
  }
  result->wall_ns = now - start;
  result->cpu_ns = bw_now_ns(CLOCK_THREAD_CPUTIME_ID) - cpu_start;
  return 0;
}

// A stress program as a box process: fork(2), run it in the child (which inherits the helper's
// namespaces and moves itself into the box's cgroup), report over a close-on-exec pipe, wait. For `fork`, the child kills and
// reaps the children it managed to start before it reports.
int bw_stress_run(int kind, uint64_t arg, struct bw_stress_outcome *out) {
  int report[2];
  if (pipe2(report, O_CLOEXEC) < 0) return -1;
  pid_t parent = getpid();
  pid_t child = fork();
  if (child < 0) {
    int e = errno;
    close(report[0]);
    close(report[1]);
    errno = e;
    return -1;
  }
  if (child == 0) {
    close(report[0]);
    bw_child_unprotect_from_oom();
    // The stress program could not join the box's cgroup (or pids.max refused it, as a fork in the
    // cgroup would have been): it does not run outside the limits. Report the errno as status.
    if (bw_enter_box_cgroup() < 0) _exit(errno == EAGAIN ? 125 : 126);
    prctl(PR_SET_PDEATHSIG, (unsigned long)SIGKILL, 0, 0, 0);
    pid_t pp = getppid();
    if (pp != parent && pp != 0) _exit(1);
    // First our PID as the box sees it (1 in a fresh pid namespace), in case we are killed.
    pid_t self = getpid();
    (void)write(report[1], &self, sizeof self);
    int counts[2] = {0, 0};
    if (kind == 0) {
      bw_stress_memory((size_t)arg, NULL);
    } else if (kind == 1) {
      static pid_t pids[4096];
      int count = arg > 4096 ? 4096 : (int)arg;
      bw_stress_fork(count, pids, &counts[0], &counts[1]);
      for (int i = 0; i < counts[0]; i++) kill(pids[i], SIGKILL);
      for (int i = 0; i < counts[0]; i++) waitpid(pids[i], NULL, 0);
    } else {
      struct bw_stress_cpu_result r;
      bw_stress_cpu((double)arg / 1000.0, &r);
    }
    (void)write(report[1], counts, sizeof counts);
    _exit(0);
  }
  close(report[1]);
  pid_t box_pid = 0;
  int counts[2] = {0, 0};
  ssize_t n;
  do n = read(report[0], &box_pid, sizeof box_pid); while (n < 0 && errno == EINTR);
  do n = read(report[0], counts, sizeof counts); while (n < 0 && errno == EINTR);
  close(report[0]);
  int status = 0;
  while (waitpid(child, &status, 0) < 0 && errno == EINTR) {}
  out->host_pid = child;
  out->box_pid = box_pid;
  out->status = status;
  out->started = counts[0];
  out->refused = counts[1];
  return 0;
}

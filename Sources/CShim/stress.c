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

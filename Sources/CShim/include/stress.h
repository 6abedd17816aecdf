#ifndef BOXWALK_STRESS_H
#define BOXWALK_STRESS_H
// The three `stress` kinds (the REPL's `stress memory|fork|cpu`): what a box process runs to push
// against a cgroup limit so the learner can watch the limit hold in `cgroup show`. Plain loops over
// system calls, in C because the fork one runs code in a child of a possibly multi-threaded process
// (only async-signal-safe calls there), and the other two are kept beside it so one box process can
// run any of them. No policy: each reports what happened and the caller decides what it means.

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/// Allocate `bytes` of anonymous memory with mmap(2) and write one byte in every page, so the kernel
/// must really back each page and charge it to the caller's memory cgroup (memory.current grows).
/// Past memory.max the kernel reclaims what it can, then the OOM killer SIGKILLs a process in the
/// cgroup (memory.events oom_kill; v1 memory.oom_control): the caller may never return.
/// `*touched` (may be NULL) counts the bytes touched so far, page by page. Put it in a MAP_SHARED
/// page made before fork(2), and the parent can read how far the child got after the OOM kill.
/// Returns 0 when every page was touched (the memory is unmapped again), or -1 with errno when
/// mmap(2) refused (ENOMEM: RLIMIT_AS or the overcommit policy; memory.max never fails mmap, it is
/// enforced when pages are touched).
int bw_stress_memory(size_t bytes, volatile size_t *touched);

/// fork(2) `count` times; each child blocks in pause(2) until a signal kills it, and asks for
/// SIGKILL should the caller die first (PR_SET_PDEATHSIG). A fork refused with EAGAIN (pids.max
/// reached, or RLIMIT_NPROC) is counted in `*refused` and the loop goes on: each refusal is one more
/// "max" in the cgroup's pids.events. Any other fork error stops the loop with -1 and errno. The
/// children's PIDs are stored in `pids` (room for `count`) and their number in `*started`; killing
/// and reaping them is the caller's job (or the cgroup's: `cgroup.kill`). The child calls only
/// async-signal-safe functions (signal-safety(7)), so the caller may be multi-threaded.
int bw_stress_fork(int count, pid_t *pids, int *started, int *refused);

/// What bw_stress_cpu measured.
struct bw_stress_cpu_result {
  uint64_t wall_ns;     // how long the loop ran, CLOCK_MONOTONIC
  uint64_t cpu_ns;      // CPU time the calling thread got meanwhile, CLOCK_THREAD_CPUTIME_ID
  uint64_t stalled_ns;  // total of the gaps over 1 ms between two turns of the loop: time off the CPU
  uint64_t stalls;      // how many such gaps there were
};

/// Spin on the CPU for `seconds` of wall-clock time, reading the clock each turn. A gap of more than
/// 1 ms between two readings means the thread was not running: throttled by the CFS bandwidth
/// controller (cpu.max; v1 cpu.cfs_quota_us, Documentation/scheduler/sched-bwc.rst) or preempted.
/// Under cpu.max "50000 100000" the thread runs about 50 ms in every 100 ms: cpu_ns comes out near
/// half of wall_ns and stalled_ns near the other half, what cpu.stat counts as throttled_usec.
/// Returns 0, or -1 with errno (EINVAL for a negative or absurd `seconds`).
int bw_stress_cpu(double seconds, struct bw_stress_cpu_result *result);

#endif

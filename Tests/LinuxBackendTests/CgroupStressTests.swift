import CShim
import Glibc
import Kernel
import Testing

/// The C stress helpers, run in this process with no limit in force: they must do what they say
/// and report it. Under limits they run inside a box (the lead wires `stress`).
@Suite struct CgroupStressTests {
  @Test func memoryTouchesEveryPage() {
    var touched: size_t = 0
    #expect(bw_stress_memory(3 * 1024 * 1024 + 100, &touched) == 0)
    #expect(touched == 3 * 1024 * 1024 + 100)
    #expect(bw_stress_memory(0, &touched) == 0)
    #expect(touched == 0)
    #expect(bw_stress_memory(4096, nil) == 0)
  }

  @Test func memoryReportsAnImpossibleMapping() {
    var touched: size_t = 0
    errno = 0
    #expect(bw_stress_memory(size_t.max - 4096, &touched) == -1)
    #expect(errno == ENOMEM)
    #expect(touched == 0)
  }

  @Test func forkStartsChildrenThatWaitToBeKilled() {
    var pids = [pid_t](repeating: 0, count: 3)
    var started: Int32 = 0
    var refused: Int32 = 0
    #expect(bw_stress_fork(3, &pids, &started, &refused) == 0)
    #expect(started == 3 && refused == 0)
    for pid in pids where pid > 0 {
      // Still there: blocked in pause(2).
      var status: Int32 = 0
      #expect(waitpid(pid, &status, WNOHANG) == 0)
      kill(pid, SIGKILL)
      while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
      #expect(status & 0x7f == SIGKILL)
    }
  }

  @Test func cpuSpinsForTheTimeAskedAndAccountsForIt() {
    var result = bw_stress_cpu_result()
    #expect(bw_stress_cpu(0.05, &result) == 0)
    #expect(result.wall_ns >= 50_000_000)
    #expect(result.cpu_ns <= result.wall_ns + 1_000_000)
    #expect(result.stalled_ns <= result.wall_ns)
    #expect(bw_stress_cpu(-1, &result) == -1)
    #expect(bw_stress_cpu(.nan, &result) == -1)
  }
}

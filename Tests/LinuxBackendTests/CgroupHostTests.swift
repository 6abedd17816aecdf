import Foundation
import Glibc
import HostSnapshotSupport
import Kernel
import Testing

@testable import LinuxBackend

/// The drivers on the real /sys/fs/cgroup (root only). Serialized: every test checks at its end
/// that nothing is left under any `boxwalk/`, which another test running at the same time would
/// break. Each uses its own session id so a leftover names the test that left it.
@Suite(.serialized, .requiresRootForCgroups, .hostUnchanged) struct CgroupHostTests {
  let root = "/sys/fs/cgroup"

  /// Every `boxwalk` directory at a hierarchy's root (v2 at the root, v1 and cgroup2-on-unified
  /// one level down).
  func leftovers() -> [String] {
    let top = ((try? SmallFiles.list(root)) ?? []).map { root + "/" + $0 + "/boxwalk" } + [root + "/boxwalk"]
    return top.filter { HostCgroupFileSystem().isDirectory($0) == true }
  }

  /// `PID-STARTTIME-N`, the shape of a real session id, so `boxwalk cleanup` would remove what
  /// a crashed test run left.
  func session(_ n: Int) -> String {
    "\(getpid())-\(startTime(of: getpid()) ?? 0)-\(n)"
  }

  /// The cgroup of `pid` in the hierarchy line that matches `controller` ("" for cgroup2), from
  /// /proc/PID/cgroup (cgroups(7)).
  func cgroupLines(of pid: pid_t) -> String { (try? SmallFiles.readText("/proc/\(pid)/cgroup")) ?? "" }

  /// A shell that waits for a line on its stdin before running `script`, so that it can be moved
  /// into a cgroup and given limits first (the way the helper is attached before it starts
  /// anything).
  final class GatedShell {
    let pid: pid_t
    let gate: Int32
    /// Whether wait(seconds:) has collected its exit status.
    private(set) var reaped = false

    init(_ script: String) throws {
      var fds: [Int32] = [-1, -1]
      guard pipe(&fds) == 0 else { throw POSIXError(.EIO) }
      // Neither end may leak into other children this test process spawns meanwhile.
      _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
      _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
      var actions = posix_spawn_file_actions_t()
      posix_spawn_file_actions_init(&actions)
      defer { posix_spawn_file_actions_destroy(&actions) }
      posix_spawn_file_actions_adddup2(&actions, fds[0], 0)
      posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
      posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
      let argv = ["/bin/sh", "-c", "read line; " + script]
      var cArgs: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
      defer { for p in cArgs { free(p) } }
      var child: pid_t = 0
      let rc = posix_spawn(&child, "/bin/sh", &actions, nil, &cArgs, environ)
      close(fds[0])
      guard rc == 0 else {
        close(fds[1])
        throw POSIXError(.init(rawValue: rc) ?? .EIO)
      }
      pid = child
      gate = fds[1]
    }

    func open() {
      _ = "go\n".withCString { write(gate, $0, 3) }
      close(gate)
    }

    /// waitpid(2) with a deadline; nil if it is still running then.
    func wait(seconds: Double) -> Int32? {
      let deadline = Date().addingTimeInterval(seconds)
      var status: Int32 = 0
      while Date() < deadline {
        let r = waitpid(pid, &status, WNOHANG)
        if r == pid {
          reaped = true
          return status
        }
        if r < 0 && errno != EINTR { return nil }
        usleep(5_000)
      }
      return nil
    }

    /// For a test's defer: SIGKILL and reap the shell unless the test already did.
    func killIfRunning() {
      guard !reaped else { return }
      kill(pid, SIGKILL)
      _ = wait(seconds: 5)
    }
  }

  @Test func detectedDriverLifecycle() throws {
    let layout = CgroupLayout.probe()
    let driver = try layout.makeDriver()
    let box = try BoxCgroup(session: session(901), box: "web")
    let shell = try GatedShell("exec sleep 30")
    defer {
      shell.killIfRunning()
      _ = try? driver.teardownSession(box.session)
      #expect(leftovers() == [], "cgroups left behind")
    }

    let created = try driver.create(box)
    #expect(created.contains(.makeDirectory(driver.directories(of: box)[0])))
    var limits: [CgroupAction] = []
    limits += try driver.set(try CgroupSetting.parse(key: "pids.max", value: "16"), on: box)
    limits += try driver.set(try CgroupSetting.parse(key: "memory.max", value: "64M"), on: box)
    if layout.choice == .v1 || layout.unifiedControllers.contains("cpu") {
      limits += try driver.set(try CgroupSetting.parse(key: "cpu.max", value: "50000 100000"), on: box)
    }
    let translations = CgroupAction.translations(limits)
    #expect(translations.first == "pids.max 16 -> pids.max = 16")
    #expect(
      translations.dropFirst().first
        == (driver.version == .v1
          ? "memory.max 64M -> memory.limit_in_bytes = 67108864" : "memory.max 64M -> memory.max = 67108864"))

    _ = try driver.attach(pid: shell.pid, to: box)
    #expect(cgroupLines(of: shell.pid).contains("/boxwalk/\(box.session)/web"))
    shell.open()
    usleep(50_000)  // let sh exec sleep

    let report = try driver.report(box)
    #expect(report.version == driver.version)
    #expect(report.pids.max == .value(16))
    #expect(report.pids.current == 1)
    #expect(report.memory.max == .value(67_108_864))
    #expect(report.memory.oomKills == 0)
    #expect(report.cpu.usageMicroseconds != nil)

    let killed = try driver.kill(box)
    let status = shell.wait(seconds: 5)
    #expect(status.map { $0 & 0x7f } == SIGKILL)
    if driver.version == .v2 {
      #expect(killed.contains { if case .write(let w) = $0 { w.file == "cgroup.kill" } else { false } })
    } else {
      #expect(killed.contains(.kill(pid: shell.pid)))
    }
    _ = try driver.remove(box)
    #expect(leftovers() == [])
  }

  /// cgroup2 on its own, even where it holds no controller (this machine's /sys/fs/cgroup/unified):
  /// create, attach, kill with cgroup.kill, remove.
  @Test func cgroup2DriverOnTheUnifiedMount() throws {
    let layout = CgroupLayout.probe()
    guard let unified = layout.unified, let hierarchy = CgroupLayout.relative(unified.mountPoint, to: root) else {
      return
    }
    let driver = CgroupV2Driver(root: root, hierarchy: hierarchy)
    let box = try BoxCgroup(session: session(902), box: "web")
    let shell = try GatedShell("exec sleep 30")
    defer {
      shell.killIfRunning()
      _ = try? driver.teardownSession(box.session)
      #expect(leftovers() == [], "cgroups left behind")
    }
    _ = try driver.create(box)
    _ = try driver.attach(pid: shell.pid, to: box)
    shell.open()
    let actions = try driver.kill(box)
    #expect(shell.wait(seconds: 5) != nil)
    #expect(actions == [.write(CgroupWrite(path: driver.relative(box.path) + "/cgroup.kill", value: "1"))])
    #expect(try driver.remove(box).contains(.removeDirectory(driver.relative(box.path))))
  }

  /// pids.max holds: a shell that tries to start six sleeps under pids.max 3 gets EAGAIN, and
  /// pids.events counts the refusals.
  @Test func pidsMaxRefusesForks() throws {
    let driver = try CgroupLayout.probe().makeDriver()
    let box = try BoxCgroup(session: session(903), box: "web")
    let shell = try GatedShell("for i in 1 2 3 4 5 6; do sleep 30 & done; wait")
    defer {
      shell.killIfRunning()
      _ = try? driver.teardownSession(box.session)
      #expect(leftovers() == [], "cgroups left behind")
    }
    _ = try driver.create(box)
    _ = try driver.set(try CgroupSetting.parse(key: "pids.max", value: "3"), on: box)
    _ = try driver.attach(pid: shell.pid, to: box)
    shell.open()
    var report = try driver.report(box)
    for _ in 0..<200 where (report.pids.maxEvents ?? 0) == 0 {
      usleep(10_000)
      report = try driver.report(box)
    }
    #expect((report.pids.maxEvents ?? 0) >= 1)
    #expect((report.pids.current ?? 99) <= 3)
    _ = try driver.teardown(box)
    #expect(shell.wait(seconds: 5) != nil)
  }

  /// memory.max holds: `tail /dev/zero` keeps everything it reads (there is no newline) and is
  /// OOM-killed at 32M, and the report counts the kill.
  @Test func memoryMaxOOMKills() throws {
    let driver = try CgroupLayout.probe().makeDriver()
    let box = try BoxCgroup(session: session(904), box: "web")
    let shell = try GatedShell("exec tail /dev/zero")
    defer {
      shell.killIfRunning()
      _ = try? driver.teardownSession(box.session)
      #expect(leftovers() == [], "cgroups left behind")
    }
    _ = try driver.create(box)
    _ = try driver.set(try CgroupSetting.parse(key: "memory.max", value: "32M"), on: box)
    _ = try driver.attach(pid: shell.pid, to: box)
    shell.open()
    let status = shell.wait(seconds: 20)
    #expect(status.map { $0 & 0x7f } == SIGKILL, "tail was not OOM-killed")
    let report = try driver.report(box)
    #expect((report.memory.oomKills ?? 0) >= 1)
    #expect((report.memory.maxEvents ?? 0) >= 1)
    #expect((report.memory.peak ?? 0) > 16 * 1024 * 1024)
    _ = try driver.teardown(box)
  }
}

import CShim
import Glibc
import HostSnapshotSupport
import Kernel
import Testing

@testable import LinuxBackend

/// The real backend, end to end. Every test uses its own state root under /tmp, makes its boxes
/// unshare uts before any hostname call (the machine's hostname must never change), and tears
/// everything down; the host's hostname is checked before and after.
@Suite(.requiresRoot, .hostUnchanged) struct LinuxKernelTests {
  /// A kernel in a fresh state root, torn down and removed after `body`, with the checks every
  /// test shares: the host's hostname is unchanged, every helper it started is gone, and nothing
  /// is left under the state root.
  func withKernel(_ body: (LinuxKernel, TemporaryDirectory) throws -> Void) throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let hostname = hostHostname()
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    var pids: [(pid_t, UInt64)] = []
    do {
      defer {
        pids = ((try? kernel.facts())?.boxes ?? []).map {
          (pid_t($0.process.hostPID), startTime(of: pid_t($0.process.hostPID)) ?? 0)
        }
        kernel.teardown()
      }
      try body(kernel, root)
    }
    #expect(hostHostname() == hostname)
    for (pid, start) in pids {
      #expect(startTime(of: pid) != start, "helper \(pid) survived teardown")
    }
    #expect(root.entries("/state") == [])
  }

  @Test func utsNamespaceEndToEnd() throws {
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "web")))
      var facts = try kernel.facts()
      let before = try #require(facts.box("web"))
      #expect(before.process.namespaces == facts.host.namespaces)  // a new box shares everything
      #expect(before.process.hostname == facts.host.hostname)

      try kernel.perform(.namespace(.unshare(box: "web", kinds: [.uts])))
      try kernel.perform(.namespace(.setHostname(box: "web", name: "bw-lab-box")))
      try kernel.perform(.namespace(.setDomainname(box: "web", name: "lab.example")))
      facts = try kernel.facts()
      let web = try #require(facts.box("web")).process
      #expect(web.hostname == "bw-lab-box")
      #expect(web.domainname == "lab.example")
      #expect(web.namespaces[.uts] != facts.host.namespaces[.uts])
      for kind in NamespaceKind.allCases where kind != .uts {
        #expect(web.namespaces[kind] == facts.host.namespaces[kind], "\(kind)")
      }
      #expect(facts.host.hostname == hostHostname())
      #expect(facts.host.hostname != "bw-lab-box")

      // The same, seen from outside with util-linux.
      let nsenter = try TestChild.run(["nsenter", "-t", String(web.hostPID), "-u", "hostname"])
      #expect(nsenter.status == 0)
      #expect(nsenter.output == "bw-lab-box\n")
      let boxUTS = namespaceLink("/proc/\(web.hostPID)/ns/uts")
      #expect(boxUTS != nil)
      #expect(boxUTS != namespaceLink("/proc/self/ns/uts"))
      if let initUTS = namespaceLink("/proc/1/ns/uts") {  // unreadable in some sandboxes
        #expect(boxUTS != initUTS)
      }
    }
  }

  @Test(arguments: NamespaceKind.allCases)
  func everyKindCanBeUnsharedAndGetsANewInode(_ kind: NamespaceKind) throws {
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "box")))
      try kernel.perform(.namespace(.unshare(box: "box", kinds: [kind])))
      let facts = try kernel.facts()
      let box = try #require(facts.box("box")).process
      let inode = try #require(box.namespaces[kind])
      #expect(inode != facts.host.namespaces[kind])
      if kind == .mnt {  // the helper made "/" private in its new mount namespace
        let mountinfo = try SmallFiles.readText("/proc/\(box.hostPID)/mountinfo")
        let root = mountinfo.split(separator: "\n").first { $0.split(separator: " ")[4] == "/" }
        #expect(root.map { !$0.contains("shared:") } == true)
      }
    }
  }

  @Test func allKindsAtOnceInOneUnshare() throws {
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "all")))
      try kernel.perform(.namespace(.unshare(box: "all", kinds: NamespaceKind.allCases)))
      let facts = try kernel.facts()
      let box = try #require(facts.box("all")).process
      for kind in NamespaceKind.allCases {
        #expect(box.namespaces[kind] != nil && box.namespaces[kind] != facts.host.namespaces[kind], "\(kind)")
      }
    }
  }

  @Test func joinTheUTSNamespaceOfAnotherBox() throws {
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "a")))
      try kernel.perform(.process(.boxNew(box: "b")))
      try kernel.perform(.namespace(.unshare(box: "a", kinds: [.uts])))
      try kernel.perform(.namespace(.setHostname(box: "a", name: "bw-shared")))
      try kernel.perform(.namespace(.join(box: "b", kind: .uts, target: "a")))
      let facts = try kernel.facts()
      let a = try #require(facts.box("a")).process
      let b = try #require(facts.box("b")).process
      #expect(b.namespaces[.uts] == a.namespaces[.uts])
      #expect(b.namespaces[.uts] != facts.host.namespaces[.uts])
      #expect(b.hostname == "bw-shared")
    }
  }

  @Test func errorsNameTheCallExactlyAsTheStepDoes() throws {
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "web")))
      try kernel.perform(.namespace(.unshare(box: "web", kinds: [.uts])))

      // HOST_NAME_MAX is 64: the kernel says EINVAL, and nothing changes.
      let long = String(repeating: "x", count: 65)
      let tooLong = Step.namespace(.setHostname(box: "web", name: long))
      #expect(throws: KernelError(step: tooLong, call: .sethostname(long), errno: .EINVAL)) {
        try kernel.perform(tooLong)
      }

      // A PID namespace has no /proc entry until its first process exists: open(2) says ENOENT.
      try kernel.perform(.process(.boxNew(box: "db")))
      try kernel.perform(.namespace(.unshare(box: "web", kinds: [.pid])))
      let join = Step.namespace(.join(box: "db", kind: .pid, target: "web"))
      do throws(KernelError) {
        try kernel.perform(join)
        Issue.record("joining a PID namespace without an init should fail")
      } catch {
        #expect(error.failed == .setns(target: "web", kind: .pid))
        #expect(error.errno == .ENOENT)
      }

      let unknown = Step.namespace(.join(box: "web", kind: .uts, target: "nobody"))
      #expect(throws: KernelError.self) { try kernel.perform(unknown) }
      let duplicate = Step.process(.boxNew(box: "web"))
      do throws(KernelError) {
        try kernel.perform(duplicate)
        Issue.record("a second box web should fail")
      } catch {
        #expect(error.errno == .EEXIST && error.failed == .fork)
      }
      #expect(try kernel.facts().box("web")?.process.hostname == hostHostname())
    }
  }

  /// A queue made in a box's own IPC namespace is listed there only (read through a detached
  /// mqueue mount); one made in the host's is recorded in the ledger and removed at teardown.
  @Test func posixQueuesPerNamespaceAndTheHostsRemovedAtTeardown() throws {
    let name = "/boxwalk-test-\(getpid())"
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "web")))
      try kernel.perform(.namespace(.posixMQNew(box: "web", name: name)))
      #expect(try kernel.facts().host.posixMQ == [name])
      #expect(try kernel.facts().box("web")?.process.posixMQ == [name])
      let directory = try #require(kernel.session?.path)
      let ledger = try SmallFiles.readText(directory + "/" + Ledger.fileName)
      #expect(ledger.contains("posix_mq " + Ledger.escape(name) + " "))
      do {
        try kernel.perform(.namespace(.posixMQNew(box: "web", name: name)))
        Issue.record("a second mq_open with O_EXCL succeeded")
      } catch {
        #expect((error as? KernelError)?.errno == .EEXIST)
      }
      try kernel.perform(.process(.boxNew(box: "db")))
      try kernel.perform(.namespace(.unshare(box: "db", kinds: [.ipc])))
      #expect(try kernel.facts().box("db")?.process.posixMQ == [])
      try kernel.perform(.namespace(.posixMQNew(box: "db", name: "/orders")))
      #expect(try kernel.facts().box("db")?.process.posixMQ == ["/orders"])
      #expect(try kernel.facts().host.posixMQ == [name])
    }
    var inode: UInt64 = 0
    #expect(bw_mq_inode(name, &inode) == -1 && errno == ENOENT, "the host's queue survived teardown")
  }

  /// /proc/PID/timens_offsets: writable until the first process enters the time namespace.
  @Test func clockOffsetsUntilTheFirstProcess() throws {
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "web")))
      try kernel.perform(.namespace(.unshare(box: "web", kinds: [.time])))
      try kernel.perform(.namespace(.clockOffset(box: "web", clock: .boottime, seconds: 86400)))
      #expect(try kernel.facts().box("web")?.process.clockOffsets == ClockOffsets(monotonic: 0, boottime: 86400))
      try kernel.perform(.cgroup(.stress(box: "web", kind: .fork(count: 1))))
      do {
        try kernel.perform(.namespace(.clockOffset(box: "web", clock: .boottime, seconds: 5)))
        Issue.record("the offsets were written after a process entered the namespace")
      } catch {
        #expect((error as? KernelError)?.errno == .EACCES)
      }
    }
  }

  /// `BOX.pid.proc`: the host's pid namespace while the box sees the host's /proc, its own once
  /// it mounted proc over it (found with no process in it yet, with a PID 1, and after PID 1
  /// died), none under a tmpfs. The simulator gives the same (SimulatedProcAndSetgroupsTests).
  @Test func procShowsThePIDNamespaceItWasMountedFor() throws {
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "web")))
      let hostPID = try kernel.facts().host.namespaces[.pid]
      #expect(try kernel.facts().box("web")?.process.procPIDNamespace == hostPID)
      try kernel.perform(.namespace(.unshare(box: "web", kinds: [.mnt, .pid])))
      let own = try #require(try kernel.facts().box("web")?.process.namespaces[.pid])
      #expect(own != hostPID)
      #expect(try kernel.facts().box("web")?.process.procPIDNamespace == hostPID)
      try kernel.perform(.mount(.mount(box: "web", request: .proc(path: "/proc"))))
      #expect(try kernel.facts().box("web")?.process.procPIDNamespace == own)
      try kernel.perform(.process(.run(box: "web", argv: ["sleep", "1000"], background: true)))
      #expect(try kernel.facts().box("web")?.process.procPIDNamespace == own)
      try kernel.perform(.process(.kill(box: "web", pid: 1)))
      #expect(try kernel.facts().box("web")?.process.procPIDNamespace == own)
      try kernel.perform(.mount(.mount(box: "web", request: .tmpfs(path: "/proc"))))
      #expect(try kernel.facts().box("web")?.process.procPIDNamespace == nil)
      try kernel.perform(.mount(.umount(box: "web", path: "/proc")))
      try kernel.perform(.mount(.umount(box: "web", path: "/proc")))
      #expect(try kernel.facts().box("web")?.process.procPIDNamespace == hostPID)
    }
  }

  /// `BOX.user.setgroups`: "allow" in a new user namespace of the machine's, "deny" once
  /// `map gid` wrote it before the map.
  @Test func setgroupsIsDeniedByTheGidMap() throws {
    try withKernel { kernel, _ in
      try kernel.perform(.process(.boxNew(box: "web")))
      #expect(try kernel.facts().host.user.setgroupsAllowed)
      try kernel.perform(.namespace(.unshare(box: "web", kinds: [.user])))
      #expect(try kernel.facts().box("web")?.process.user.setgroupsAllowed == true)
      try kernel.perform(
        .namespace(.map(box: "web", kind: .gid, range: IDMapRange(inside: 0, outside: 100000, count: 65536))))
      #expect(try kernel.facts().box("web")?.process.user.setgroupsAllowed == false)
      #expect(try kernel.facts().host.user.setgroupsAllowed)
    }
  }

  @Test func boxRemoveKillsTheHelperAndForgetsIt() throws {
    try withKernel { kernel, root in
      try kernel.perform(.process(.boxNew(box: "web")))
      try kernel.perform(.process(.boxNew(box: "db")))
      let facts = try kernel.facts()
      let web = pid_t(try #require(facts.box("web")).process.hostPID)
      let start = startTime(of: web)
      let session = try #require(root.entries("/state").first)
      let ledgerPath = root.path + "/state/" + session + "/ledger"
      #expect(try SmallFiles.readText(ledgerPath).contains("helper web \(web) "))

      try kernel.perform(.process(.boxRemove(box: "web")))
      #expect(startTime(of: web) != start)
      #expect(try kernel.facts().boxes.map(\.name) == ["db"])
      #expect(try !SmallFiles.readText(ledgerPath).contains("helper web"))
      #expect(throws: KernelError.self) { try kernel.perform(.process(.boxRemove(box: "web"))) }
    }
  }

  @Test func teardownIsIdempotentAndTheKernelWorksAgainAfterIt() throws {
    try withKernel { kernel, root in
      try kernel.perform(.process(.boxNew(box: "web")))
      kernel.teardown()
      kernel.teardown()
      #expect(root.entries("/state") == [])
      #expect(try kernel.facts().boxes.isEmpty)
      try kernel.perform(.process(.boxNew(box: "again")))
      #expect(try kernel.facts().boxes.map(\.name) == ["again"])
    }
  }

  @Test func deinitTearsDown() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    var helper: (pid: pid_t, start: UInt64?) = (0, nil)
    do {
      let kernel = try LinuxKernel(stateRoot: root.path, ephemeralImages: true)
      try kernel.perform(.process(.boxNew(box: "web")))
      let pid = pid_t(try #require(kernel.facts().box("web")).process.hostPID)
      helper = (pid, startTime(of: pid))
    }
    #expect(helper.start != nil)
    #expect(startTime(of: helper.pid) != helper.start)
    #expect(root.entries() == [])
  }

  @Test func aHelperThatCannotBeExecutedIsAnExecveError() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    // A directory passes access(X_OK) (search permission) but execve(2) says EACCES. (A freshly
    // written file would race: a fork in a parallel test can hold its write fd, and execve says
    // ETXTBSY.)
    mkdir(root.path + "/not-a-program", 0o755)
    let kernel = try LinuxKernel(
      stateRoot: root.path + "/state", helperPath: root.path + "/not-a-program", ephemeralImages: true)
    defer { kernel.teardown() }
    let step = Step.process(.boxNew(box: "web"))
    do throws(KernelError) {
      try kernel.perform(step)
      Issue.record("execve of a directory should fail")
    } catch {
      #expect(error.failed == .execve(program: "boxwalk-helper"))
      #expect(error.errno == .EACCES)
    }
    #expect(try kernel.facts().boxes.isEmpty)
  }

  @Test func aMissingHelperIsRefusedAtInit() throws {
    #expect(throws: KernelError.self) {
      try LinuxKernel(stateRoot: "/tmp/unused", helperPath: "/nonexistent/boxwalk-helper", ephemeralImages: true)
    }
  }
}

/// Cleanup against real helpers: a session whose owner is dead gets its helper killed; a record
/// whose pid was recycled kills nothing.
@Suite(.requiresRoot, .hostUnchanged) struct LedgerCleanupRootTests {
  let bootID = (try? ProcFS(root: "/proc").bootID()) ?? ""

  /// A ledger owned by this process but with another start time: its owner is "dead".
  func deadOwner() throws -> Ledger.Owner {
    let me = try #require(startTime(of: getpid()))
    return Ledger.Owner(bootID: bootID, pid: getpid(), startTime: me + 1)
  }

  @Test func aDeadOwnersHelperIsKilled() throws {
    let live = try TemporaryDirectory()
    let stale = try TemporaryDirectory()
    defer {
      live.remove()
      stale.remove()
    }
    let kernel = try LinuxKernel(stateRoot: live.path, ephemeralImages: true)
    defer { kernel.teardown() }
    try kernel.perform(.process(.boxNew(box: "web")))
    let pid = pid_t(try #require(kernel.facts().box("web")).process.hostPID)
    let start = try #require(startTime(of: pid))
    // The same helper, as a crashed session's ledger would list it.
    let ledger = Ledger(owner: try deadOwner(), records: [.helper(box: "web", pid: pid, startTime: start)])
    try stale.write("\(getpid())-\(start)/ledger", ledger.text)

    let lines = LedgerCleanup.run(stateRoot: stale.path)
    #expect(lines.contains("  killed helper of box web (pid \(pid))"), "\(lines)")
    let after = ProcFS(root: "/proc").identity(String(pid))
    #expect(after == nil || after?.state == "Z")  // dead; our kernel reaps it at teardown
    #expect(stale.entries() == [])
    #expect(LedgerCleanup.run(stateRoot: stale.path) == [])
  }

  @Test func aRecycledPidIsNeverTouched() throws {
    let stale = try TemporaryDirectory()
    defer { stale.remove() }
    try TestChild.withSleeper { sleeper, start in
      // Its pid with another start time (the pid was reused), and its pid and start time but not a
      // helper's name: neither may be signalled.
      let ledger = Ledger(
        owner: try deadOwner(),
        records: [
          .helper(box: "web", pid: sleeper.pid, startTime: start + 1),
          .helper(box: "db", pid: sleeper.pid, startTime: start),
        ])
      try stale.write("\(getpid())-1/ledger", ledger.text)

      let lines = LedgerCleanup.run(stateRoot: stale.path)
      #expect(lines.filter { $0.contains("not touched") }.count == 2, "\(lines)")
      #expect(!lines.contains { $0.contains("killed") })
      #expect(sleeper.isRunning)
      #expect(stale.entries() == [])
    }
  }
}

/// What a helper looks like from outside: nothing of the host crosses into the box.
@Suite(.requiresRoot, .hostUnchanged) struct HelperProcessTests {
  @Test func theHelperStartsCleanAndAlone() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path, ephemeralImages: true)
    defer { kernel.teardown() }
    try kernel.perform(.process(.boxNew(box: "web")))
    let pid = try #require(kernel.facts().box("web")).process.hostPID

    #expect(try SmallFiles.readText("/proc/\(pid)/comm") == "boxwalk-helper\n")
    let status = try SmallFiles.readText("/proc/\(pid)/status")
    #expect(status.contains("\nThreads:\t1\n"))
    #expect(getsid(pid_t(pid)) == pid_t(pid))  // a session of its own
    let fds = try SmallFiles.list("/proc/\(pid)/fd").sorted()
    #expect(fds == ["0", "1", "10", "11", "2", "3", "4", "5", "6", "7"])
    #expect(SmallFiles.readLink("/proc/\(pid)/fd/0") == "/dev/null")
    #expect(SmallFiles.readLink("/proc/\(pid)/fd/3")?.hasPrefix("socket:") == true)
    // What the helper opens for itself before any pivot_root: the host's /proc (O_PATH, for join
    // and for box programs' state), the host's / (O_PATH, to open the box's cgroup files at
    // `cgroup new`), /dev/null for box programs' stdin, and a signalfd for SIGCHLD. All close on
    // exec, so no box program gets one.
    #expect(SmallFiles.readLink("/proc/\(pid)/fd/4") == "/proc")
    #expect(SmallFiles.readLink("/proc/\(pid)/fd/5") == "/")
    #expect(SmallFiles.readLink("/proc/\(pid)/fd/6") == "/dev/null")
    #expect(SmallFiles.readLink("/proc/\(pid)/fd/7") == "anon_inode:[signalfd]")
    // boxwalk's own session directory and image store (here the session's, not made yet: its
    // nearest directory), held open to reach them under a box's mounts (BoxwalkHelper/Anchors.swift).
    #expect(SmallFiles.readLink("/proc/\(pid)/fd/10")?.hasPrefix(root.path + "/") == true)
    #expect(SmallFiles.readLink("/proc/\(pid)/fd/11")?.hasPrefix(root.path + "/") == true)
    for fd in ["4", "5", "6", "7", "10", "11"] {
      let info = try SmallFiles.readText("/proc/\(pid)/fdinfo/\(fd)")
      let flags = info.split(separator: "\n").first { $0.hasPrefix("flags:") }.flatMap {
        Int($0.split(separator: "\t").last ?? "", radix: 8)
      }
      #expect(flags.map { $0 & 0o2000000 != 0 } == true, "fd \(fd) is not close-on-exec")
    }
    let environment = try SmallFiles.read("/proc/\(pid)/environ").split(separator: 0).map {
      String(decoding: $0, as: UTF8.self)
    }
    #expect(environment.count == 1 && environment.first?.hasPrefix("PATH=") == true)
  }
}

@Suite struct LinuxKernelWithoutRootTests {
  @Test(.enabled(if: geteuid() != 0, "runs only as a user without root"))
  func initRefusesWithoutRoot() {
    #expect(
      throws: KernelError(
        call: "geteuid()", errno: .EPERM, detail: "the real backend needs root; use --backend rootless or --backend sim"
      )
    ) {
      try LinuxKernel(stateRoot: "/tmp/boxwalk-test-unused", ephemeralImages: true)
    }
  }
}

/// Layers on the real kernel, the cases a transcript cannot show well: links and option syntax
/// (docs/security.md).
@Suite(.requiresRoot, .hostUnchanged) struct LinuxLayerTests {
  /// A state directory whose path has overlay option syntax in it. Each path goes to the
  /// kernel in its own fsconfig(2) call, so nothing in it can become an option.
  @Test func layerPathsCannotInjectOverlayOptions() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/st,upperdir=:x\\y", ephemeralImages: true)
    defer { kernel.teardown() }
    try kernel.perform(.process(.boxNew(box: "web")))
    try kernel.perform(.namespace(.unshare(box: "web", kinds: [.mnt])))
    try kernel.perform(.layer(.overlay(box: "web", names: ["busybox"], layers: ["busybox"])))
    try kernel.perform(.layer(.writeFile(box: "web", path: "/etc/motd", text: "hi")))
    #expect(try kernel.origin(box: "web", path: "/etc/motd").layer == "upper")
    let pid = try #require(try kernel.facts().box("web")?.process.hostPID)
    let mountinfo = try String(contentsOfFile: "/proc/\(pid)/mountinfo", encoding: .utf8)
    let line = try #require(mountinfo.split(separator: "\n").first { $0.contains(" - overlay ") })
    // mountinfo shows a ',' inside a path as \054, so splitting the options at ',' gives exactly
    // the options the kernel holds: one lowerdir, one upperdir, one workdir, nothing injected.
    let options = try #require(line.components(separatedBy: " - overlay ").last?.split(separator: " ").last)
    let keys = options.split(separator: ",").map { $0.split(separator: "=").first.map(String.init) ?? "" }
    #expect(
      keys.filter { $0.hasPrefix("lowerdir") || $0 == "upperdir" || $0 == "workdir" } == [
        "lowerdir+", "upperdir", "workdir",
      ])
  }

  /// A layer whose /etc/hostname is a link to a host file. Writing it through the box must
  /// not reach the host: file commands follow no link.
  @Test func aLinkInALayerNeverReachesTheHost() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    try root.write("victim", "host file")
    try root.write("layer/etc/placeholder", "")
    symlink(root.path + "/victim", root.path + "/layer/etc/hostname")
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    defer { kernel.teardown() }
    try kernel.perform(.layer(.imageImport(image: ImageName(name: "evil"), directory: root.path + "/layer")))
    try kernel.perform(.process(.boxNew(box: "web")))
    try kernel.perform(.namespace(.unshare(box: "web", kinds: [.mnt])))
    try kernel.perform(.layer(.overlay(box: "web", names: ["evil"], layers: ["evil", "busybox"])))
    #expect(throws: KernelError.self) {
      try kernel.perform(.layer(.writeFile(box: "web", path: "/etc/hostname", text: "owned")))
    }
    #expect(throws: KernelError.self) { try kernel.readFile(box: "web", path: "/etc/hostname") }
    #expect(throws: KernelError.self) {
      try kernel.perform(.layer(.writeFile(box: "web", path: "/etc/hostname/x", text: "owned")))
    }
    #expect(try String(contentsOfFile: root.path + "/victim", encoding: .utf8) == "host file")
  }

  /// Teardown removes the upper layers and the throwaway store; nothing stays under the state root.
  @Test func teardownLeavesNothing() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    try kernel.perform(.process(.boxNew(box: "web")))
    try kernel.perform(.namespace(.unshare(box: "web", kinds: [.mnt])))
    try kernel.perform(.layer(.overlay(box: "web", names: ["busybox"], layers: ["busybox"])))
    try kernel.perform(.layer(.removeFile(box: "web", path: "/etc")))
    kernel.teardown()
    #expect(root.entries("/state") == [])
  }
}

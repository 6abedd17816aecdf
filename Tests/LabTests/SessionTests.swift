import Kernel
import Simulator
import Testing

@testable import Lab

/// The session on the simulator: the grammar, the policy checks, the rendering, and the rule that
/// bad input gets a clear error and changes nothing (docs/architecture.md, "Errors").
@Suite struct SessionTests {
  func session(_ lines: String...) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for l in lines { _ = s.execute(l) }
    return s
  }

  @Test func promptNamesTheCurrentBox() throws {
    let s = try session()
    #expect(s.prompt == "boxwalk> ")
    _ = s.execute("box new web")
    #expect(s.prompt == "boxwalk[web]> ")
    _ = s.execute("box new db")
    _ = s.execute("use web")
    #expect(s.prompt == "boxwalk[web]> ")
    _ = s.execute("box rm web")
    #expect(s.prompt == "boxwalk> ")
  }

  /// From a new learner's walk: each message said what to do, and the advice did not work.
  @Test func writeWithUnquotedTextSaysToQuoteIt() throws {
    let s = try session("box new web", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root")
    let out = s.execute("write /srv/index.html hello from a layer")
    #expect(out.contains("  fix:   quote text with spaces: write /srv/index.html 'hello from a layer'"), "\(out)")
  }

  @Test func psInADeadPidNamespaceDoesNotSuggestRun() throws {
    let s = try session(
      "box new web", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root", "run -d sleep 100", "kill 1")
    let out = s.execute("ps")
    #expect(
      out.first == "no processes in web, and none can start there (box new makes a box with a fresh pid namespace)")
    #expect(!out.joined().contains("run starts one"))
  }

  @Test func committingAnUnchangedBoxSaysTheLayerIsEmpty() throws {
    let s = try session("box new web", "unshare mnt,pid,ipc", "rootfs busybox")
    let out = s.execute("commit site:v1")
    #expect(out.first?.hasSuffix("tar entries: none") == true, "\(out)")
    #expect(out.contains("  the box changed no file since its root filesystem was made, so this layer is empty"))
  }

  /// `show web.cgroup.cpu.stat` printed `{}` although the counters were there: all of them are
  /// volatile. The line says where they went, and a scalar path shows one.
  @Test func aMapOfVolatileValuesSaysTheyAreLeftOut() throws {
    let stat = StateValue.map(StateMap([("nr_throttled", .volatile(.int(3))), ("usage_usec", .volatile(.int(9)))]))
    #expect(
      TreePrinter.show(StatePath(keys: "web", "cgroup", "cpu", "stat"), stat) == [
        "web.cgroup.cpu.stat = {}  (values that change from run to run are left out: show one by its path)"
      ])
    #expect(TreePrinter.show(StatePath(keys: "x"), .map(StateMap([]))) == ["x = {}"])
  }

  /// A file removed before a commit is a whiteout in the image's layer: which said only
  /// "fstatat(...): ENOENT" for it in a box made from that image.
  @Test func whichExplainsAFileNoLayerShows() throws {
    let s = try session(
      "box new a", "unshare mnt,pid,ipc", "rootfs busybox", "rm /etc/passwd", "commit site:v1", "box new b",
      "unshare mnt,pid,ipc", "rootfs site:v1")
    let out = s.execute("which /etc/passwd")
    #expect(out.first == "error: /etc/passwd is not in b's root filesystem", "\(out)")
    #expect(out.contains { $0.contains("a whiteout in one of its image's layers hides it") })
  }

  /// After an error, explain described the step before it as if it were the error's.
  @Test func explainAfterAnErrorSaysTheCommandFailedFirst() throws {
    let s = try session("box new a", "unshare uts", "mount tmpfs /srv")
    let out = s.execute("explain")
    #expect(out.first?.hasPrefix("the last command failed and changed nothing: mount tmpfs /srv (refused:") == true)
    #expect(out.dropFirst().first == "last step: unshare uts")
    _ = s.execute("hostname web")
    #expect(s.execute("explain").first == "last step: hostname web")
  }

  /// The simulator measures no bytes or CPU time: it said "current 0, peak 0" after an 8 MiB hog.
  @Test func theSimulatorSaysItDoesNotMeasureBytesOrCPUTime() throws {
    let s = try session("box new web", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root", "cgroup new")
    _ = s.execute("stress memory 8M")
    let raw = s.execute("cgroup show --raw").joined(separator: "\n")
    #expect(raw.contains("current not simulated, peak not simulated, OOM kills 0"), "\(raw)")
    #expect(raw.contains("usage not simulated, throttled 0 periods"), "\(raw)")
    #expect(s.execute("show web.cgroup.memory.peak") == ["web.cgroup.memory.peak = \"not simulated\""])
  }

  /// `rootfs busybox --dir` printed its new upper layer as one cell of 2,000 characters.
  @Test func aLongValueInTheDiffIsCutShortWithItsCount() throws {
    let s = try session("box new a", "unshare mnt,pid,ipc")
    let out = s.execute("rootfs busybox --dir")
    let upper = out.first { $0.hasPrefix("  fs.upper") }
    #expect(
      upper?.contains("entries: /bin: \"dir\", /bin/[: \"symlink\", /bin/ash: \"symlink\", ... (show lists them)}")
        == true)
    #expect(out.allSatisfy { $0.count < 200 })
    #expect(DiffTable.brief(.map(StateMap([("a", .int(1))]))) == "{a: 1}")
  }

  @Test func boxListMarksADeadPidNamespace() throws {
    let s = try session("box new web", "unshare mnt,pid,ipc", "rootfs busybox", "pivot-root")
    #expect(s.execute("box ls").last?.hasSuffix("ipc mnt pid") == true)
    _ = s.execute("run true")
    #expect(s.execute("box ls").last?.hasSuffix("ipc mnt pid (dead)") == true)
  }

  @Test func showPrintsOneLineForAScalar() throws {
    let s = try session("box new web", "unshare uts", "hostname lab-box")
    #expect(s.execute("show web.hostname") == ["web.hostname = \"lab-box\""])
    #expect(s.execute("show web.ns.uts") == ["web.ns.uts = \"uts:1\""])
    #expect(s.execute("show host.ns.uts") == ["host.ns.uts = \"uts:0\""])
  }

  @Test func showPrintsATreeForAMapWithoutVolatileValues() throws {
    let s = try session("box new web")
    let out = s.execute("show web")
    #expect(out.first == "web =")
    #expect(out.contains("  hostname = \"sim-host\""))
    #expect(out.contains("  ns ="))
    #expect(out.contains("    uts = \"uts:0\""))
    #expect(!out.contains { $0.contains("host_pid") })
    // ... but a volatile value asked for by its own path is printed.
    #expect(s.execute("show web.host_pid") == ["web.host_pid = 4200"])
  }

  @Test func stateJSONHasBackendAndTreeWithHostPID() throws {
    let s = try session("box new web")
    let out = s.execute("state --json")
    #expect(out.count == 1)
    #expect(out[0].hasPrefix("{\"backend\":\"sim\",\"state\":{\"host\":{\"hostname\":\"sim-host\""))
    #expect(out[0].contains("\"web\":{"))
    #expect(out[0].contains("\"host_pid\":4200"))
  }

  @Test func aStepPrintsSyscallShellAndSideBySideDiff() throws {
    let s = try session("box new web")
    let out = s.execute("unshare uts")
    #expect(
      out == [
        "web has new namespaces: uts:1",
        "  syscall  unshare(CLONE_NEWUTS)",
        "  shell    unshare --uts",
        "  changed  host     web",
        "  ns.uts   \"uts:0\"  \"uts:0\" -> \"uts:1\"",
      ])
  }

  @Test func hostnameIsRefusedWhileSharingTheHostsUTSNamespace() throws {
    let s = try session("box new web")
    let before = s.tree
    let out = s.execute("hostname lab-box")
    #expect(out.first?.hasPrefix("error: refused: web shares the host's UTS namespace") == true)
    #expect(out.contains("  fix:     unshare uts"))
    #expect(s.tree == before)
    #expect(s.failures == 1)
  }

  /// Each class of bad input: one headline naming the rule, nothing changed, still usable.
  @Test(arguments: [
    ("hostnme", "error: unknown command \"hostnme\"", "did you mean: hostname"),
    ("box new", "error: box new needs an argument, got 0", "usage: box new NAME"),
    ("use web db", "error: too many arguments for use", "usage: use NAME"),
    ("box new host", "error: \"host\" is not a valid box name", "reserved"),
    ("box new all", "error: \"all\" is not a valid box name", "reserved"),
    ("box new -x", "error: \"-x\" is not a valid box name", "[A-Za-z0-9][A-Za-z0-9_.-]*"),
    ("box new abcdefghijklmnop", "error: \"abcdefghijklmnop\" is not a valid box name", "at most 15 bytes"),
    ("box new web", "error: a box named web already exists", "box rm web"),
    (
      "hostname " + String(repeating: "h", count: 65), "error: a hostname is at most 64 bytes; this one has 65",
      "HOST_NAME_MAX"
    ),
    ("hostname a\u{0}b", "error: the command line has a character boxwalk does not accept", "\\x00"),
    ("hostname \u{1B}[31mred", "error: the command line has a character boxwalk does not accept", "\\x1b"),
    ("show web.hostnme", "error: no state path web.hostnme", "nearest: web.hostname"),
    ("show web..x", "error: \"web..x\" is not a state path", "column 5"),
    ("unshare utz", "error: \"utz\" is not a namespace kind", "did you mean: uts"),
    ("unshare uts,uts", "error: uts is named twice", "name each kind once"),
    ("join uts nobox", "error: no box named \"nobox\"", "boxes:"),
    ("hostname 'open", "error: the command line has a character boxwalk does not accept", "not closed"),
    ("cgroup set pids.max 10", "error: web has no cgroup yet", "cgroup new"),
    ("stress fork 10", "error: web has no cgroup yet", "limits and stress tests need a cgroup"),
    ("kill 99", "error: web has no process with PID 99", "kill acts only on the box's own processes"),
    ("kill x", "error: \"x\" is not a PID", "positive whole number"),
    (
      "mount proc /proc",
      "error: refused: web shares the host's mount namespace, so mount would change the host's mounts", "unshare mnt"
    ),
    ("mount nfs /mnt", "error: boxwalk cannot mount \"nfs\"", "proc sysfs tmpfs mqueue dev bind"),
    ("mount tmpfs ../etc", "error: \"../etc\" is not a path in the box", "starts with /"),
    ("mount tmpfs /a/../b", "error: \"/a/../b\" is not a path in the box", "no . or .. parts"),
    (
      "umount /proc", "error: refused: web shares the host's mount namespace, so umount would change the host's mounts",
      "unshare mnt"
    ),
    (
      "pivot-root",
      "error: refused: web shares the host's mount namespace, so pivot-root would change the host's mounts",
      "unshare mnt"
    ),
    ("rootfs centos", "error: no image named \"centos\"", "busybox"),
    ("ipc mq new 0xzz", "error: \"0xzz\" is not an IPC key", "key_t"),
    ("ipc mq new -1", "error: \"-1\" is not an IPC key", "key_t"),
    ("run", "error: run needs a program to run", "usage: run [-d] CMD [ARG...]"),
  ])
  func badInputChangesNothing(_ line: String, _ headline: String, _ detail: String) throws {
    let s = try session("box new web", "unshare uts")
    let before = s.tree
    let out = s.execute(line)
    #expect(out.first == headline, "\(line)")
    #expect(out.dropFirst().contains { $0.contains(detail) }, "\(line): \(out)")
    #expect(!out.joined().contains("\u{1B}"), "no raw escape byte may reach the terminal")
    #expect(s.tree == before)
    // Still usable.
    #expect(s.execute("hostname ok").first == "web's hostname is now \"ok\" in uts:1; the host keeps its own")
  }

  @Test func kernelErrorsNameTheCallAndTheErrno() throws {
    let s = try session("box new web", "unshare pid")
    let out = s.execute("unshare pid")
    #expect(out.first == "error: unshare(CLONE_NEWPID): EINVAL")
    #expect(out.contains { $0.contains("only one pid namespace for its children") })
  }

  @Test func injectedFaultsRollBackAndTheSessionGoesOn() throws {
    let kernel = SimulatedKernel()
    let s = try Session(kernel: kernel)
    _ = s.execute("box new web")
    _ = s.execute("unshare uts")
    kernel.inject(.init(stepKind: "sethostname", errno: .EIO))
    let before = s.tree
    #expect(s.execute("hostname x").first == "error: sethostname(\"x\", 1): EIO")
    #expect(s.tree == before)
    #expect(s.execute("hostname x").first?.hasPrefix("web's hostname is now") == true)
  }

  @Test func diffAndExplainDescribeTheLastStep() throws {
    let s = try session("box new web", "unshare uts", "hostname lab")
    #expect(
      s.execute("diff") == [
        "last step: hostname lab",
        "  changed   host        web",
        "  hostname  \"sim-host\"  \"sim-host\" -> \"lab\"",
      ])
    let explain = s.execute("explain")
    #expect(explain.contains("  syscall  sethostname(\"lab\", 3)"))
    #expect(explain.contains { $0.contains("uts_namespaces(7)") })
  }

  @Test func watchPrintsAfterStepsThatChangeThePath() throws {
    let s = try session("box new web", "unshare uts")
    #expect(s.execute("watch web.hostname") == ["watch 1: web.hostname = \"sim-host\""])
    #expect(s.execute("hostname a").last == "  watch 1  web.hostname = \"a\"")
    #expect(s.execute("unwatch 1") == ["unwatched 1"])
    #expect(!s.execute("hostname b").contains { $0.contains("watch") })
  }

  @Test func quotingFollowsTheShell() throws {
    #expect(try WordSplitter.split("hostname 'a b' \"c\\\"d\" e\\ f # comment") == ["hostname", "a b", "c\"d", "e f"])
    #expect(try WordSplitter.split("  ") == [])
    #expect(try WordSplitter.split("echo $HOME *") == ["echo", "$HOME", "*"])
  }

  @Test func jsonModePrintsOneObjectPerLine() throws {
    let s = try Session(kernel: SimulatedKernel(), json: true)
    let out = s.execute("box new web")
    #expect(out.count == 1)
    #expect(out[0].hasPrefix("{\"prompt\":\"boxwalk> \",\"input\":\"box new web\",\"ok\":true,\"step\":\"box-new\""))
    let bad = s.execute("nope")
    #expect(bad[0].contains("\"ok\":false"))
    // A refusal before any system call has no errno; a failed call names its own.
    #expect(!bad[0].contains("\"errno\""))
    _ = s.execute("unshare mnt")
    let failed = s.execute("mount tmpfs /nonexistent")
    #expect(failed[0].contains("\"ok\":false"))
    #expect(failed[0].contains("\"errno\":\"ENOENT\""))
  }

  @Test func completionOffersCommandsBoxesKindsAndPaths() throws {
    let s = try session("box new web", "box new db")
    #expect(s.completions(before: "", word: "ho").contains("hostname"))
    #expect(s.completions(before: "use ", word: "") == ["web", "db"])
    #expect(s.completions(before: "unshare ", word: "uts,").contains("uts,ipc"))
    #expect(s.completions(before: "show ", word: "web.").contains("web.ns.uts"))
  }
}

/// Processes, mounts and IPC on the simulator: the session checks that come before any syscall.
@Suite struct ProcessMountIPCSessionTests {
  func session(_ lines: String...) throws -> Session {
    let s = try Session(kernel: SimulatedKernel())
    for l in lines { _ = s.execute(l) }
    return s
  }

  @Test func theFirstProcessInANewPidNamespaceIsPID1AndItsExitKillsTheNamespace() throws {
    let s = try session("box new web", "unshare pid,mnt,ipc", "rootfs busybox", "pivot-root")
    #expect(s.execute("run -d sleep 100").first == "started `sleep 100` in the background as PID 1 in pid:1")
    #expect(s.execute("run sh -c 'echo pid=$$'").first == "pid=2")
    let out = s.execute("kill 1")
    #expect(
      out.contains("PID 1 of pid:1 exited: the kernel killed every process in pid:1, and no new one can enter it"))
    #expect(s.execute("run true").first == "error: fork(): ENOMEM")
  }

  /// A program runs only in a box that is a container: its own pivoted root, pid and IPC
  /// namespaces. Each refusal names what is missing and changes nothing.
  @Test func runNeedsAContainer() throws {
    let s = try session("box new web")
    var out = s.execute("run echo hi")
    #expect(out.first == "error: refused: web is not a container yet, so a program run there could change the host")
    #expect(out.contains("  fix:     unshare mnt,pid,ipc; rootfs busybox; pivot-root"))
    #expect(s.execute("show web.pid.ps") == ["web.pid.ps = []"])
    _ = s.execute("unshare mnt,pid")
    _ = s.execute("rootfs busybox")
    out = s.execute("run echo hi")
    #expect(out.contains("  missing: an IPC namespace of its own: its IPC objects would be the host's"))
    #expect(out.contains("  fix:     unshare ipc; pivot-root"))
    _ = s.execute("unshare ipc")
    _ = s.execute("chroot")
    out = s.execute("run echo hi")
    #expect(out.contains("  missing: a root it cannot leave: chroot is no boundary, a root process climbs out of it"))
    _ = s.execute("box new app")
    for line in ["unshare mnt,pid,ipc", "rootfs busybox", "pivot-root"] { _ = s.execute(line) }
    #expect(s.execute("run echo hi").first == "hi")
  }

  @Test func umountOnlyUndoesTheBoxsOwnMounts() throws {
    let s = try session("box new web", "unshare mnt")
    #expect(s.execute("umount /proc").first == "error: nothing that web mounted is at /proc")
    _ = s.execute("mount tmpfs /tmp")
    #expect(s.execute("show web.mounts[\"/tmp\"].fstype") == ["web.mounts[\"/tmp\"].fstype = \"tmpfs\""])
    #expect(s.execute("umount /tmp").first == "unmounted /tmp in web's mount namespace mnt:1")
  }

  @Test func pivotRootNeedsAPreparedRootThatIsAMountPoint() throws {
    let s = try session("box new web", "unshare mnt")
    #expect(s.execute("pivot-root").first == "error: web has no root filesystem to switch to")
    // rootfs is an overlay of the image, so the new root is a mount point at once.
    #expect(s.execute("rootfs busybox").first?.hasPrefix("web's root filesystem is an overlay of busybox") == true)
    #expect(s.execute("pivot-root").first?.hasPrefix("web's root is now its overlay of busybox (pivot_root)") == true)
    #expect(s.execute("show web.root") == ["web.root = \"overlay of busybox (pivot_root)\""])
    #expect(s.execute("pivot-root").first == "error: web already switched: its root is overlay of busybox (pivot_root)")
  }

  @Test func ipcObjectsLiveInTheirNamespace() throws {
    let s = try session("box new web", "ipc mq new 0x2a", "box new db", "unshare ipc")
    #expect(s.execute("show db.ipc.mq") == ["db.ipc.mq = []"])
    #expect(s.execute("show host.ipc.mq") == ["host.ipc.mq = [\"0x0000002a\"]"])
    #expect(s.execute("ipc mq new 42").first == "db made mq 0x0000002a in ipc:1")
    #expect(s.execute("ipc mq new 42").first == "error: msgget(0x0000002a, IPC_CREAT|IPC_EXCL|0600): EEXIST")
  }

  @Test func posixQueuesAndClockOffsetsRefuseWhatTheKernelNeverSees() throws {
    let s = try session("box new web")
    #expect(s.execute("ipc posix_mq new ''").first == "error: \"\" is not a message queue name boxwalk passes on")
    #expect(s.execute("ipc posix_mq new $'/a\\tb'").first?.hasPrefix("error: ") == true)
    #expect(s.execute("ipc posix_mq new jobs").contains("  fix:     ipc posix_mq new /jobs"))
    #expect(
      s.execute("clock offset boottime 60").first
        == "error: refused: web shares the host's time namespace, so this would change the host's clocks")
    _ = s.execute("unshare mnt,time")
    #expect(s.execute("clock offset realtime 60").first == "error: a time namespace has no clock \"realtime\"")
    #expect(s.execute("clock offset boottime -1").first == "error: \"-1\" is not an offset boxwalk writes")
    #expect(
      s.execute("clock offset boottime 1000000001").first == "error: \"1000000001\" is not an offset boxwalk writes")
    #expect(s.execute("show web.clock.offsets.boottime") == ["web.clock.offsets.boottime = 0"])
    #expect(s.execute("clock offset boottime 60").first?.hasPrefix("boottime runs 60 s ahead in time:1") == true)
    #expect(s.execute("show web.clock.offsets.boottime") == ["web.clock.offsets.boottime = 60"])
    // mqueue would show the host's queues in a box that shares the host's IPC namespace.
    #expect(
      s.execute("mount mqueue /mnt").first
        == "error: refused: web shares the host's IPC namespace, so its mqueue would show the host's message queues")
    _ = s.execute("unshare ipc")
    #expect(s.execute("mount mqueue /mnt").first?.hasPrefix("mounted mqueue on /mnt") == true)
  }
}

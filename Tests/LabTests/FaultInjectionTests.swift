import Kernel
import Simulator
import Testing

@testable import Lab

/// A failing step rolls back only that step, on the simulator: make each kind of step fail
/// (SimulatedKernel.inject, "fail the next N steps of kind K with errno E") and check what
/// runc's `initProcess.start` and bubblewrap's `strace -e fault=` tests check: the error names the
/// system call and the errno (`sethostname("lab", 3): EPERM`, never strerror text), the
/// state is exactly as before (the kernel rolls back, Kernel.perform's contract), and the session
/// goes on: the same command works once the cause is gone.
@Suite struct FaultInjectionTests {
  /// One step kind, how to reach it, and the step the command makes.
  struct Case: Sendable, CustomTestStringConvertible {
    /// `Step.kindName`, the key of SimulatedKernel.Fault.
    let kind: String
    /// Commands that make the step possible (a box to remove, a UTS namespace to rename...).
    let setup: [String]
    let command: String
    /// The step `command` makes: its `calls[0]` is the call the error must name.
    let step: Step
    var testDescription: String { kind }
  }

  /// Every step kind of today's grammar. New step kinds (run, kill, mount, umount, propagation,
  /// rootfs, pivot_root, chroot, ipc, cgroups, net...) plug in here: the command that makes one
  /// and the setup it needs. `everyCaseIsItsKind` checks the table against Step.kindName.
  static let cases: [Case] = [
    Case(kind: "box-new", setup: [], command: "box new web", step: .process(.boxNew(box: "web"))),
    Case(kind: "box-rm", setup: ["box new web"], command: "box rm web", step: .process(.boxRemove(box: "web"))),
    Case(
      kind: "unshare", setup: ["box new web"], command: "unshare uts,mnt",
      step: .namespace(.unshare(box: "web", kinds: [.uts, .mnt]))),
    Case(
      kind: "setns", setup: ["box new web", "unshare uts", "box new db"], command: "join uts web",
      step: .namespace(.join(box: "db", kind: .uts, target: "web"))),
    Case(
      kind: "sethostname", setup: ["box new web", "unshare uts"], command: "hostname lab",
      step: .namespace(.setHostname(box: "web", name: "lab"))),
    Case(
      kind: "setdomainname", setup: ["box new web", "unshare uts"], command: "domainname lab.example",
      step: .namespace(.setDomainname(box: "web", name: "lab.example"))),
  ]

  /// Errnos a kernel really returns for these calls, and one no table knows (kept as a number,
  /// never a crash: learners will meet odd errnos).
  static let errnos: [Errno] = [.EPERM, .EINVAL, .ENOMEM, .ENOSPC, .EUSERS, .EACCES, Errno(rawValue: 200)]

  static func session(_ setup: [String]) throws -> (Session, SimulatedKernel) {
    let kernel = SimulatedKernel()
    let session = try Session(kernel: kernel)
    for line in setup {
      let out = session.execute(line)
      #expect(out.first?.hasPrefix("error:") != true, "setup \(line): \(out)")
    }
    return (session, kernel)
  }

  @Test(arguments: cases)
  func everyCaseIsItsKind(_ c: Case) {
    #expect(c.step.kindName == c.kind)
  }

  @Test(arguments: cases, errnos)
  func anInjectedFaultNamesTheCallChangesNothingAndTheSessionGoesOn(_ c: Case, _ errno: Errno) throws {
    let (session, kernel) = try Self.session(c.setup)
    let tree = session.tree
    let facts = try kernel.facts()
    let prompt = session.prompt
    let failures = session.failures

    kernel.inject(.init(stepKind: c.kind, errno: errno))
    let out = session.execute(c.command)

    // One line for the learner naming the call and the errno, then the detail
    // (docs/architecture.md, "Errors").
    #expect(out.first == "error: \(c.step.calls[0]): \(errno.name)", "\(out)")
    #expect(out.contains { $0.hasPrefix("  command:") && $0.hasSuffix(c.command) }, "\(out)")
    #expect(out.contains { $0.hasPrefix("  meaning:") && $0.contains("\(errno.name): \(errno.meaning)") }, "\(out)")
    #expect(out.last?.hasPrefix("  state:") == true && out.last?.hasSuffix("nothing was changed") == true, "\(out)")
    // Nothing changed: the tree, the kernel's own view, the current box.
    #expect(session.tree == tree)
    #expect(try kernel.facts() == facts)
    #expect(session.prompt == prompt)
    #expect(session.failures == failures + 1)
    // `diff` and `explain` still describe the last step that worked, not the failed one.
    #expect(session.execute("diff").first != "last step: \(c.command)")

    // The fault was for one step: the same command now works (a second attempt succeeds).
    let again = session.execute(c.command)
    #expect(again.first?.hasPrefix("error:") == false, "\(again)")
    #expect(again.contains("  syscall  " + c.step.calls[0]))
    #expect(session.tree != tree)
    #expect(session.execute("box ls").first?.hasPrefix("error:") == false)
  }

  /// `--json`: a failed step is one object with ok false and the error headline, and nothing else
  /// in it pretends the step happened (no changes).
  @Test(arguments: cases)
  func aFaultInJSONModeIsOneObjectWithOkFalse(_ c: Case) throws {
    let (session, kernel) = try Self.session(c.setup)
    session.jsonMode = true
    kernel.inject(.init(stepKind: c.kind, errno: .EPERM))
    let out = session.execute(c.command)
    #expect(out.count == 1)
    #expect(out[0].contains("\"ok\":false"))
    #expect(out[0].contains("\"error\":" + JSON.quote("\(c.step.calls[0]): EPERM")))
    #expect(out[0].contains("\"changes\":[]"))
  }

  /// "*" fails any step, `count` times in a row: a run of failures leaves the session as it was,
  /// and it recovers as soon as the faults are used up.
  @Test func aRunOfFaultsOnAnyStepThenRecovery() throws {
    let (session, kernel) = try Self.session(["box new web"])
    let tree = session.tree
    kernel.inject(.init(stepKind: "*", errno: .EAGAIN, count: 3))
    for line in ["unshare uts", "box new db", "box rm web"] {
      #expect(session.execute(line).first?.hasSuffix(": EAGAIN") == true, "\(line)")
    }
    #expect(session.tree == tree)
    #expect(session.failures == 3)
    #expect(session.execute("unshare uts").first == "web has new namespaces: uts:1")
    #expect(session.execute("hostname after-faults").first?.hasPrefix("web's hostname is now") == true)
  }

  /// A fault on one kind leaves other kinds alone, and stays armed until a step of its kind comes.
  @Test func aFaultWaitsForItsKind() throws {
    let (session, kernel) = try Self.session([])
    kernel.inject(.init(stepKind: "sethostname", errno: .EPERM))
    #expect(session.execute("box new web").first?.hasPrefix("created box web") == true)
    #expect(session.execute("unshare uts").first?.hasPrefix("web has new namespaces") == true)
    #expect(session.execute("domainname d").first?.hasPrefix("web's domain name is now") == true)
    #expect(session.execute("hostname h").first == "error: sethostname(\"h\", 1): EPERM")
    #expect(session.execute("hostname h").first?.hasPrefix("web's hostname is now") == true)
  }
}

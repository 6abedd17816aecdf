import Kernel

/// The teaching text around each step: the shell command a learner would type on a real Linux
/// machine for the same effect, and why the kernel behaves as it does. `<web>` stands for web's
/// host PID, which is volatile (`show web.host_pid` prints it).
enum StepText {
  /// The equivalent command with util-linux (unshare(1), nsenter(1)) and coreutils. Cgroup
  /// steps name the files of the host's cgroup interface, so the line works where it is shown.
  /// `root` is where the box's `/` was when the step ran: before pivot-root a mount or umount
  /// acts beneath the prepared root filesystem (the syscalls open `<web root>`), which nsenter(1)
  /// reaches at its place on the host, `<web rootfs>`.
  static func shell(_ step: Step, cgroup: CgroupVersion = .v2, root: RootFacts = .host) -> String {
    // Each area's text in its own file: StepText+Processes, +Namespaces, +Mounts, +Cgroups,
    // +Net and +Layers.
    switch step {
    case .process(let s): return processShell(s)
    case .namespace(let s): return namespaceShell(s)
    case .mount(let s): return mountShell(s, root: root)
    case .cgroup(let s): return cgroupShell(s, cgroup: cgroup)
    case .net(let s): return netShell(s)
    case .layer(let s): return layerShell(s)
    }
  }

  /// A command run in a side's network namespace: on the host side as it is (that side stands in
  /// for the host), in a box through nsenter(1).
  static func inNetwork(_ side: NetSide, _ command: String) -> String {
    switch side {
    case .host: return command
    case .box(let box): return "nsenter --target <\(box)> --net " + command
    case .outside: return "nsenter --target <\(OutsideNet.name)> --net " + command
    }
  }

  /// Why the kernel does this, with the man page to read next.
  static func why(_ step: Step) -> [String] {
    switch step {
    case .process(let s): return whyProcess(s)
    case .namespace(let s): return whyNamespace(s)
    case .mount(let s): return whyMount(s)
    case .cgroup(let s): return whyCgroup(s)
    case .net(let s): return whyNet(s)
    case .layer(let s): return layerWhy(s)
    }
  }

  /// How to get past an errno for this step, when there is one way.
  static func errnoFix(_ step: Step, _ errno: Errno, detail: String? = nil) -> String? {
    // Only some areas have one (StepText+AREA.swift); the others have none to give.
    switch step {
    case .namespace(let s): namespaceErrnoFix(s, errno, detail: detail)
    case .mount(let s): mountErrnoFix(s, errno, detail: detail)
    case .process, .cgroup, .net, .layer: nil
    }
  }

  /// What an errno means for this step, when there is something specific to teach.
  static func errnoHint(_ step: Step, _ errno: Errno, detail: String? = nil) -> String? {
    let specific: String? =
      switch step {
      case .process(let s): processErrnoHint(s, errno, detail: detail)
      case .namespace(let s): namespaceErrnoHint(s, errno, detail: detail)
      case .mount(let s): mountErrnoHint(s, errno, detail: detail)
      case .cgroup: nil
      case .net(let s): netErrnoHint(s, errno, detail: detail)
      case .layer(let s): layerErrnoHint(s, errno, detail: detail)
      }
    if let specific { return specific }
    // Any step that names a link: rtnetlink(7) answers ENODEV for a name it does not know.
    return errno == .ENODEV ? "no link with that name exists in that network namespace" : nil
  }
}

/// One learner action that changes kernel state, as an Equatable value. Both kernels take the same
/// steps; tests compare whole step sequences. Reading commands (`show`, `ns`, `state`) are not
/// steps: they only read the state tree.
///
/// Steps are grouped by the kernel area they act on, one enum per area, each declared in its own
/// file here with everything the Kernel layer knows of it: its cases, whom each acts on, its name,
/// its plan (the system calls it makes) and what it can change (its read-back). Every other layer
/// has one file per area too (its text in Lab/Render/StepText+AREA.swift, its summary in
/// Lab/Session/Session+AREASummary.swift, its simulation in SimulatedKernel+AREA.swift, its real
/// operation in LinuxKernel+AREA.swift), and the switches here and in each layer's central file
/// route by area only: adding a step kind to an area touches that area's file in each layer and
/// nothing else (docs/architecture.md, "Adding a step kind").
public enum Step: Equatable, Hashable, Sendable {
  /// The box's process: start and end the box, run and kill programs in it (ProcessStep.swift).
  case process(ProcessStep)
  /// Namespaces and what lives in them: unshare, setns, the UTS names, ID maps, IPC objects, the
  /// time namespace's offsets (NamespaceStep.swift).
  case namespace(NamespaceStep)
  /// The box's mount namespace: mount, umount, propagation, pivot_root, chroot (MountStep.swift).
  case mount(MountStep)
  /// The box's cgroup, its limits, and the programs that push against them (CgroupStep.swift).
  case cgroup(CgroupStep)
  /// The lab's network: links, addresses, routes, the outside, nftables, sockets (NetStep.swift).
  case net(NetStep)
  /// Layers, the box's root filesystem and its files, and the image store (LayerStep.swift).
  case layer(LayerStep)

  /// Whom the step acts on: its box, the lab's host (the host side's network, the image store)
  /// or the outside.
  public var owner: Owner {
    switch self {
    case .process(let s): s.owner
    case .namespace(let s): s.owner
    case .mount(let s): s.owner
    case .cgroup(let s): s.owner
    case .net(let s): s.owner
    case .layer(let s): s.owner
    }
  }

  /// A short kind name, for fault injection and error messages ("unshare", "sethostname").
  public var kindName: String {
    switch self {
    case .process(let s): s.kindName
    case .namespace(let s): s.kindName
    case .mount(let s): s.kindName
    case .cgroup(let s): s.kindName
    case .net(let s): s.kindName
    case .layer(let s): s.kindName
    }
  }

  /// The system calls the step makes, in order: its plan. Both kernels make exactly these calls
  /// and name a failing one by its entry here (`KernelError.failed`), and the renderer prints
  /// each entry's text (SystemCall.swift), so this plan is part of every transcript.
  public var plan: [SystemCall] {
    switch self {
    case .process(let s): s.plan
    case .namespace(let s): s.plan
    case .mount(let s): s.plan
    case .cgroup(let s): s.plan
    case .net(let s): s.plan
    case .layer(let s): s.plan
    }
  }

  /// What this step can change, judged from the facts before it (`facts`). See `ReadBack`.
  public func readBack(in facts: KernelFacts) -> ReadBack {
    switch self {
    case .process(let s): s.readBack(in: facts)
    case .namespace(let s): s.readBack(in: facts)
    case .mount(let s): s.readBack(in: facts)
    case .cgroup(let s): s.readBack(in: facts)
    case .net(let s): s.readBack(in: facts)
    case .layer(let s): s.readBack(in: facts)
    }
  }

  /// The plan as the learner reads it: one line per entry, the way strace(1) prints the call.
  public var calls: [String] { plan.map(\.description) }

  /// The directory pivot-root makes in the new root to put the old root under, then removes.
  public static let oldRootName = ".oldroot"
  /// Why pivot-root refuses a root that already has that name (boxwalk-helper says the same):
  /// mkdir(2) must make a new, empty directory. An image's own `.oldroot` (a link, a file, a
  /// directory with files) would make pivot_root(2) follow the link, or leave the old root's
  /// directory behind after the root had already changed: the step would fail half done.
  public static let oldRootTaken =
    "the new root already has /.oldroot, where pivot-root puts the old root; rm /.oldroot in the box first"
  /// pivot_root(2)'s second EINVAL, after the new root is a mount point: the current root (or
  /// new_root's parent) is a shared mount, and the move would propagate to its peers. Both
  /// kernels give this detail for it, so the refusal can say which rule it broke.
  public static let pivotRootShared = "the new root is a mount point, but the box's / is a shared mount"

  /// After unshare(CLONE_NEWNS) the new mount namespace is a copy of the old one, and on systemd
  /// hosts "/" is a shared mount: without this, mounts made in the box would propagate back to the
  /// host (mount_namespaces(7), "Shared subtrees"). runc and systemd do the same first.
  public static let makeRootPrivate = SystemCall.setPropagation(.private)
}

/// Which network namespace a net step acts in: boxwalk's host side, or a box's own.
public enum NetSide: Equatable, Hashable, Sendable {
  case host
  case box(String)
  /// The lab's outside (OutsideNet): the stand-in for the internet.
  case outside

  /// `host`, or the box's name.
  public var name: String {
    switch self {
    case .host: "host"
    case .box(let b): b
    case .outside: OutsideNet.name
    }
  }
}

/// A link named by the side it is on: `host:veth-web` on the host side, `eth0` in a box.
public struct NetLinkRef: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var side: NetSide
  public var name: String
  public init(_ side: NetSide, _ name: String) {
    self.side = side
    self.name = name
  }
  /// As the learner writes it: `host:NAME` on the host side, the bare name in a box.
  public var description: String { side == .host ? "host:\(name)" : name }
}

/// The combined flags of several namespace kinds, printed the way strace does: `CLONE_NEWUTS|CLONE_NEWIPC`.
public func cloneFlagsDescription(_ kinds: [NamespaceKind]) -> String {
  kinds.map(\.cloneFlagName).joined(separator: "|")
}

/// What `stress` runs, inside the box: allocate and touch memory, fork children, or spin a CPU.
public enum StressKind: Equatable, Hashable, Sendable {
  case memory(bytes: UInt64)
  case fork(count: Int)
  case cpu(milliseconds: Int)
}

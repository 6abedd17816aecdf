/// The seam between the lab and a kernel, injected through initialisers (never a global). The
/// simulator and the Linux backend both implement it; everything above takes `any Kernel` through
/// its initialiser.
public protocol Kernel: AnyObject {
  /// Which backend this is: printed on the REPL's first line and in `state --json`.
  var backend: Backend { get }

  /// Carry out one step. On error nothing has changed (the backend rolls back what it did).
  @discardableResult
  func perform(_ step: Step) throws(KernelError) -> StepResult

  /// What the kernel looks like now: the host and every box, in creation order.
  func facts() throws(KernelError) -> KernelFacts

  /// The facts after a step that can have changed only `scope` (`Step.readBack`): what it names is
  /// read again, the rest is taken from `previous`, the facts before the step. Equal to `facts()`
  /// whenever the scope holds everything the step changed.
  func facts(_ scope: ReadBack, previous: KernelFacts) throws(KernelError) -> KernelFacts

  /// The same read as `facts(_:previous:)`, changing `facts` (the facts before the step) where
  /// it is: when the caller holds the only copy, the boxes not read are neither copied nor
  /// looked at, so the read costs what the step reached, not the number of boxes. On an error
  /// `facts` is as it was.
  func readBack(_ scope: ReadBack, into facts: inout KernelFacts) throws(KernelError)

  /// Kill every box and remove every host-side object. Safe to call twice.
  func teardown()

  /// What happened outside any step since the last call, each said once: on the real kernel, a
  /// helper that died (killed from outside, or by the OOM killer) and what that took with it,
  /// with the command that recovers. The kernel has already forgotten what died.
  func takeNotices() -> [String]

  /// The cgroup interface the kernel's cgroup steps use (the simulator models this host's), so
  /// that shell lines name files that exist where they are shown.
  var cgroupVersion: CgroupVersion { get }

  /// File commands that only read (`cat`, `ls`, `which`): paths inside the box's root
  /// filesystem, resolved as the box would, following no symbolic link.
  func readFile(box: String, path: String) throws(KernelError) -> [UInt8]
  func listDirectory(box: String, path: String) throws(KernelError) -> [DirectoryEntry]
  /// The layer a path comes from (`upper` for the writable layer); its entry too.
  func origin(box: String, path: String) throws(KernelError) -> (layer: String, kind: LayerEntryKind)

  /// `box export NAME DIR` (BundleCalls): make DIR (absolute; it must not exist, or be an empty
  /// directory of the caller's), write `config` as DIR/config.json and copy the box's root
  /// filesystem, merged, as its processes see it (no mount below its root), into DIR/rootfs.
  /// On an error nothing of DIR is left but an empty directory the caller had.
  func exportBundle(box: String, directory: String, config: [UInt8]) throws(KernelError)
  /// `box import-bundle DIR`: DIR/config.json as the machine has it (a regular file, no symbolic
  /// link as its last name, at most the size boxwalk reads of a small file).
  func readBundleConfig(directory: String) throws(KernelError) -> [UInt8]
}

extension Kernel {
  /// The simulator's processes die only by the learner's steps: nothing to report.
  public func takeNotices() -> [String] { [] }

  /// A test double without cgroups speaks v2, the interface boxwalk's keys are named after.
  public var cgroupVersion: CgroupVersion { .v2 }

  /// A kernel without layers (a test double) answers ENOSYS.
  public func readFile(box: String, path: String) throws(KernelError) -> [UInt8] {
    throw KernelError(call: FileCalls.read(box, path), errno: .ENOSYS)
  }
  public func listDirectory(box: String, path: String) throws(KernelError) -> [DirectoryEntry] {
    throw KernelError(call: FileCalls.list(box, path), errno: .ENOSYS)
  }
  public func origin(box: String, path: String) throws(KernelError) -> (layer: String, kind: LayerEntryKind) {
    throw KernelError(call: FileCalls.origin(box, path), errno: .ENOSYS)
  }
  public func exportBundle(box: String, directory: String, config: [UInt8]) throws(KernelError) {
    throw KernelError(call: BundleCalls.call(box: box, directory: directory), errno: .ENOSYS)
  }
  public func readBundleConfig(directory: String) throws(KernelError) -> [UInt8] {
    throw KernelError(call: BundleCalls.readConfig(directory), errno: .ENOSYS)
  }
}

/// The calls the reading file commands make, named alike by both kernels in errors.
public enum FileCalls {
  public static let maxRead = 64 * 1024
  public static func read(_ box: String, _ path: String) -> String {
    SystemCall.openBeneath(box: box, path: path, .read).description
  }
  public static func list(_ box: String, _ path: String) -> String {
    SystemCall.openBeneath(box: box, path: path, .list).description
  }
  public static func origin(_ box: String, _ path: String) -> String {
    "fstatat(<layer>, \(JSON.quote(path)), AT_SYMLINK_NOFOLLOW)   # in the upper layer, then each lower one"
  }
}

public enum Backend: String, CaseIterable, Sendable {
  case sim, real, rootless
}

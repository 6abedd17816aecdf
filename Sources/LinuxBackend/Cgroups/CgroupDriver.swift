import Kernel

/// What boxwalk does with cgroups, the same on both versions. The cgroup of a box is
/// `boxwalk/SESSION/BOX` (BoxCgroup) under each hierarchy's root. Every operation returns the
/// file-system actions it made, in order, with paths relative to `root`, for the REPL to print
/// as system calls and as shell commands (CgroupAction). `CgroupLayout.makeDriver` picks the
/// driver from what the host has mounted.
package protocol CgroupDriver: Sendable {
  var version: CgroupVersion { get }
  /// The directory the hierarchies are mounted under, normally /sys/fs/cgroup.
  var root: String { get }

  /// The box's cgroup directories, relative to `root`: one on v2, one per hierarchy on v1.
  func directories(of box: BoxCgroup) -> [String]

  /// Make the box's cgroup (and `boxwalk/`, `boxwalk/SESSION` as needed). Refuses a box
  /// directory that already exists: boxwalk never adopts a cgroup it did not make.
  func create(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction]

  /// Move process `pid` (all its threads) into the box's cgroup by writing it to cgroup.procs.
  /// Its future children start there too, which is why the helper is moved before it starts any
  /// box process.
  func attach(pid: Int32, to box: BoxCgroup) throws(CgroupError) -> [CgroupAction]

  /// The box's cgroup.procs files, absolute paths, one per hierarchy in the order of
  /// `directories(of:)`: what the helper opens and its children write "0" into (CgroupOperations
  /// of boxwalk-helper), so the box's processes are in the cgroup and the helper is not.
  func procsFiles(of box: BoxCgroup) -> [String]

  /// The cgroup.procs files of the cgroups a process is in (its /proc/PID/cgroup), in the same
  /// hierarchies and order; nil when one of them is missing or outside `root`.
  func procsFiles(of membership: ProcCgroup) -> [String]?

  /// Write a limit, translated to the v1 files on v1.
  func set(_ setting: CgroupSetting, on box: BoxCgroup) throws(CgroupError) -> [CgroupAction]
  /// Write one of the files `setting` is written to (`setting.files(version)`: one on v2, one or
  /// two on v1): one entry of a `cgroup set` step's plan.
  func write(_ file: String, _ value: String, for setting: CgroupSetting, on box: BoxCgroup) throws(CgroupError)
    -> [CgroupAction]

  /// Limits and usage.
  func report(_ box: BoxCgroup) throws(CgroupError) -> CgroupReport

  /// SIGKILL every process in the box's cgroup and its sub-cgroups, and wait (bounded) until
  /// they are gone (CgroupTeardownPlan explains how).
  func kill(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction]

  /// Remove the box's cgroup tree depth first, retrying on EBUSY, then `boxwalk/SESSION` and
  /// `boxwalk/` if nothing else is in them. Already gone is done.
  func remove(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction]

  /// Kill and remove everything under `boxwalk/SESSION` (the end of a session, or `cleanup`).
  func teardownSession(_ session: String) throws(CgroupError) -> [CgroupAction]

  /// The names under `boxwalk/` in every hierarchy: the sessions that have cgroups.
  func sessions() -> [String]
}

extension CgroupDriver {
  /// Kill, then remove: what `box rm` and the end of a session do.
  package func teardown(_ box: BoxCgroup) throws(CgroupError) -> [CgroupAction] {
    try kill(box) + remove(box)
  }
}

/// A cgroup operation the kernel refused, or that could not finish: the call as strace prints
/// it, the errno by name (EPERM, never strerror text), and the rule behind it in words for the
/// learner.
package struct CgroupError: Error, Equatable, Sendable, CustomStringConvertible {
  package var call: String
  package var errno: Errno
  package var explanation: String

  package init(call: String, errno: Errno, explanation: String) {
    self.call = call
    self.errno = errno
    self.explanation = explanation
  }

  init(_ error: SystemCallError, explanation: String) {
    self.init(call: error.call, errno: Errno(rawValue: error.errno), explanation: explanation)
  }

  package var description: String { "\(call): \(errno.name) (\(explanation))" }

  /// The same, as the Kernel protocol reports failures.
  package var kernelError: KernelError { KernelError(call: call, errno: errno, detail: explanation) }
}

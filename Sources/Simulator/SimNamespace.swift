import Kernel

/// One simulated namespace. Like the kernel's, each non-user namespace is owned by the user
/// namespace its creator was in (user_namespaces(7), "Interaction of user namespaces and other
/// types of namespaces"); permission to change it is checked against that owner.
struct SimNamespace {
  let kind: NamespaceKind
  let inode: UInt64
  /// The owning user namespace (for a user namespace: its parent). nil for the host's user namespace.
  let owner: UInt64?
  /// For pid namespaces: the parent pid namespace (pid_namespaces(7)); nil for the host's.
  let parent: UInt64?
  /// UTS namespaces carry the two names uname(2) reports.
  var hostname = ""
  var domainname = "(none)"
  /// For pid namespaces: whether a process has entered it. Until one has, the kernel cannot
  /// resolve /proc/PID/ns/pid_for_children (ENOENT).
  var populated = false
}

/// One simulated process: the namespace it is in for each kind. For pid and time these are the
/// `*_for_children` namespaces; `activePID` is the pid namespace the process itself lives in,
/// which unshare(2) never changes (only children enter the new one).
struct SimProcess {
  var hostPID: Int
  var ns: [NamespaceKind: UInt64]
  var activePID: UInt64
}

/// Turns namespace inode numbers into labels in order of first appearance (SPEC §5): the host's
/// are `uts:0`, the next new UTS namespace `uts:1`, and so on. Inode numbers differ on every
/// machine and run; labels do not, which is what lets one transcript pass on every backend.
///
/// The kernel reuses the inode number of a namespace that died (nsfs, see ioctl_ns(2)), so a label
/// is forgotten when its namespace is no longer seen, and numbers are never handed out twice.
public struct Labeler: Sendable {
  private var labels: [NamespaceKind: [UInt64: Int]] = [:]
  private var next: [NamespaceKind: Int] = [:]

  public init() {}

  public mutating func label(_ kind: NamespaceKind, _ inode: UInt64) -> String {
    if let n = labels[kind]?[inode] { return "\(kind.rawValue):\(n)" }
    let n = next[kind, default: 0]
    next[kind] = n + 1
    labels[kind, default: [:]][inode] = n
    return "\(kind.rawValue):\(n)"
  }

  /// Forget every namespace not in `seen` (they died; their inode may be reused).
  public mutating func retain(only seen: [NamespaceKind: Set<UInt64>]) {
    for kind in NamespaceKind.allCases {
      let keep = seen[kind] ?? []
      labels[kind] = labels[kind]?.filter { keep.contains($0.key) }
    }
  }
}

/// Turns namespace inode numbers into labels in order of first appearance (docs/transcripts.md,
/// "What is volatile"): the host's are `uts:0`, the next new UTS namespace `uts:1`, and so on.
/// Inode numbers differ on every machine and run; labels do not, which is what lets one transcript
/// pass on every backend.
///
/// The kernel reuses the inode number of a namespace that died (nsfs, see ioctl_ns(2)), so a label
/// is forgotten when its namespace is no longer seen, and numbers are never handed out twice.
public struct Labeler: Sendable {
  /// The label of each live inode, kept as text: labels are asked for after every step.
  private var labels: [NamespaceKind: [UInt64: String]] = [:]
  private var next: [NamespaceKind: Int] = [:]

  public init() {}

  public mutating func label(_ kind: NamespaceKind, _ inode: UInt64) -> String {
    if let label = labels[kind]?[inode] { return label }
    let n = next[kind, default: 0]
    next[kind] = n + 1
    let label = "\(kind.rawValue):\(n)"
    labels[kind, default: [:]][inode] = label
    return label
  }

  /// Forget one namespace (it died; its inode may be reused).
  public mutating func forget(_ kind: NamespaceKind, _ inode: UInt64) {
    labels[kind]?[inode] = nil
  }
}

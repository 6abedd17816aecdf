/// What one layer holds, as both kernels describe it: every path (absolute, clean) and what is
/// there. A lower layer is a directory tree extracted from an OCI layer tar; the upper layer is
/// the writable directory overlayfs puts changes in. Whiteouts and opaque directories are the
/// marks overlayfs leaves in the upper layer when something below is deleted
/// (Documentation/filesystems/overlayfs.rst, "whiteouts and opaque directories").
public enum LayerEntryKind: Equatable, Hashable, Sendable {
  /// A directory. An opaque one hides everything the layers below have at the same path
  /// (overlayfs marks it with the xattr trusted.overlay.opaque="y").
  case directory(opaque: Bool)
  /// A regular file and its bytes (a listing that only needs the kind leaves them empty).
  case file([UInt8])
  case symlink(target: String)
  /// Hides the same path in every layer below: on disk a character device 0/0, in an OCI layer
  /// tar an empty file named `.wh.NAME` (OCI image spec, layer.md, "Whiteouts").
  case whiteout
  /// What a box can create but a layer does not carry: a FIFO, a socket, a character or block
  /// device (other than the whiteout's 0/0). Listed by its kind (`fifo`, `socket`,
  /// `char device`, `block device`), never opened: opening a FIFO for reading waits for a
  /// writer, and a device node leads to the host's hardware.
  case special(String)

  public var isDirectory: Bool {
    if case .directory = self { return true }
    return false
  }

  /// How `fs.upper` and `ls` name it.
  public var word: String {
    switch self {
    case .directory(let opaque): opaque ? "opaque dir" : "dir"
    case .file: "file"
    case .symlink: "symlink"
    case .whiteout: "whiteout (char 0:0)"
    case .special(let kind): kind
    }
  }
}

public struct LayerEntry: Equatable, Hashable, Sendable {
  /// Absolute and clean, like every box path: "/etc/motd".
  public var path: String
  public var kind: LayerEntryKind
  /// Permission bits (0755, 0644); part of the layer's content, so part of its digest.
  public var mode: UInt32

  public init(path: String, kind: LayerEntryKind, mode: UInt32) {
    self.path = path
    self.kind = kind
    self.mode = mode
  }
}

/// A layer's entries by path. Every parent directory of an entry is an entry too (a layer on
/// disk cannot have /etc/motd without /etc), which `normalized()` ensures for tars that omit them.
public struct LayerContents: Equatable, Sendable {
  public private(set) var entries: [String: LayerEntry] = [:]

  public init(_ list: [LayerEntry] = []) {
    for e in list { entries[e.path] = e }
    normalize()
  }

  public subscript(path: String) -> LayerEntry? {
    get { entries[path] }
    set { entries[path] = newValue }
  }

  /// Paths in byte order: a directory before everything in it.
  public var sortedPaths: [String] { entries.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) } }

  /// The names directly under `directory`.
  public func children(of directory: String) -> [String] {
    let prefix = directory == "/" ? "/" : directory + "/"
    return entries.keys.filter { $0.hasPrefix(prefix) && $0 != "/" && !$0.dropFirst(prefix.count).contains("/") }
      .map { String($0.dropFirst(prefix.count)) }
  }

  /// Removes `path` and everything under it.
  public mutating func removeTree(_ path: String) {
    let prefix = path + "/"
    for key in entries.keys where key == path || key.hasPrefix(prefix) { entries[key] = nil }
  }

  /// Adds the missing parent directories (mode 0755).
  public mutating func normalize() {
    for path in Array(entries.keys) {
      var parent = Overlay.parent(of: path)
      while parent != "/" && entries[parent] == nil {
        entries[parent] = LayerEntry(path: parent, kind: .directory(opaque: false), mode: 0o755)
        parent = Overlay.parent(of: parent)
      }
    }
    entries["/"] = nil
  }

  /// How deep a listing of a layer goes: entries more than this many directories down are left
  /// out, and the directory at the limit is marked instead. A box can nest directories as deep
  /// as it likes; a reader that follows them all would need one open directory per level (or a
  /// path longer than PATH_MAX) and could be made to fail every time it reads the state.
  public static let depthLimit = 128

  /// The number of names in `path` ("/a/b" is 2).
  public static func depth(_ path: String) -> Int { path.utf8.reduce(0) { $0 + ($1 == UInt8(ascii: "/") ? 1 : 0) } }

  /// These contents without the entries deeper than `depthLimit`, and the directories at the
  /// limit whose entries were left out.
  public func limited() -> (contents: LayerContents, truncated: [String]) {
    var kept = self
    var truncated: Set<String> = []
    for path in entries.keys where Self.depth(path) > Self.depthLimit {
      kept.entries[path] = nil
      var top = path
      while Self.depth(top) > Self.depthLimit { top = Overlay.parent(of: top) }
      truncated.insert(top)
    }
    return (kept, truncated.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
  }

  public var fileCount: Int { entries.values.filter { if case .file = $0.kind { true } else { false } }.count }
}

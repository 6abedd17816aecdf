/// Builds the state tree of SPEC §4 from raw kernel facts. Shared by every backend, so the tree's
/// shape and labels cannot differ between them. It keeps the labeler for the whole session.
public struct StateTreeBuilder: Sendable {
  public private(set) var labeler = Labeler()

  public init() {}

  public mutating func build(_ facts: KernelFacts) -> StateValue {
    var seen: [NamespaceKind: Set<UInt64>] = [:]
    var root = StateMap()
    // The host first, so that every one of its namespaces is label 0.
    var host = processMap(facts.host, hostPIDKey: nil, seen: &seen)
    host["images"] = .map(Self.images(facts))
    host["layers"] = .map(Self.layers(facts))
    root["host"] = .map(host)
    for box in facts.boxes {
      root[box.name] = .map(processMap(box.process, hostPIDKey: "host_pid", seen: &seen))
    }
    labeler.retain(only: seen)
    return .map(root)
  }

  private mutating func processMap(
    _ p: ProcessFacts, hostPIDKey: String?, seen: inout [NamespaceKind: Set<UInt64>]
  ) -> StateMap {
    var m = StateMap()
    m["hostname"] = .string(p.hostname)
    m["domainname"] = .string(p.domainname)
    var ns = StateMap()
    for kind in NamespaceKind.allCases {
      guard let inode = p.namespaces[kind] else { continue }
      seen[kind, default: []].insert(inode)
      ns[kind.rawValue] = .string(labeler.label(kind, inode))
    }
    m["ns"] = .map(ns)
    let isBox = hostPIDKey != nil
    if isBox {
      m["root"] = .string(p.root.text)
      if let propagation = p.rootPropagation { m["propagation"] = .string(propagation.rawValue) }
      var mounts = StateMap()
      for mount in p.mounts {
        mounts[mount.path] = .map(
          StateMap([
            ("fstype", .string(mount.fstype)), ("source", .string(mount.source)),
            ("propagation", .string(mount.propagation.rawValue)),
          ]))
      }
      m["mounts"] = .map(mounts)
      // A process in the host's pid namespace has a host PID: volatile (SPEC §5).
      let ps = p.processes.map { proc in
        StateValue.map(
          StateMap([
            ("pid", proc.inHostPIDNamespace ? .volatile(.int(proc.pid)) : .int(proc.pid)), ("cmd", .string(proc.command)),
            ("host_pid", .volatile(.int(proc.hostPID))),
          ]))
      }
      m["pid"] = .map(StateMap([("ps", .list(ps)), ("alive", .bool(p.pidNamespaceAlive))]))
      if let fs = p.fs { m["fs"] = .map(Self.fs(fs)) }
    }
    var ipc = StateMap()
    for kind in IPCKind.allCases {
      ipc[kind.rawValue] = .list(p.ipc.filter { $0.kind == kind }.map { .string(IPCObjectFacts.keyText($0.key)) })
    }
    m["ipc"] = .map(ipc)
    if let key = hostPIDKey { m[key] = .volatile(.int(p.hostPID)) }
    return m
  }

  /// BOX.fs (SPEC §4): the lower layers top first, every regular file with the layer it comes
  /// from, the whiteouts, and the upper layer's entries by kind.
  static func fs(_ fs: FSFacts) -> StateMap {
    var files = StateMap()
    for (path, layer) in fs.files { files[path] = .map(StateMap([("layer", .string(layer))])) }
    var upper = StateMap()
    for (path, kind) in fs.upper { upper[path] = .string(kind.word) }
    let whiteouts = fs.upper.filter { $0.kind == .whiteout }.map { StateValue.string($0.path) }
    return StateMap([
      ("layers", .list(fs.layers.map { .string($0) })), ("files", .map(files)), ("whiteouts", .list(whiteouts)),
      ("upper", .map(upper)),
    ])
  }

  /// host.images["app:v1"].layers, top first (docker's image store, `docker image ls`).
  static func images(_ facts: KernelFacts) -> StateMap {
    var m = StateMap()
    for image in facts.images.sorted(by: { $0.name.full < $1.name.full }) {
      m[image.name.description] = .map(StateMap([("layers", .list(image.layers.map { .string($0) }))]))
    }
    return m
  }

  /// host.layers["app"]: the diff_id (volatile when the content is host-specific) and file count.
  static func layers(_ facts: KernelFacts) -> StateMap {
    var m = StateMap()
    for layer in facts.layers.sorted(by: { $0.name < $1.name }) {
      let digest = StateValue.string(layer.diffID)
      m[layer.name] = .map(
        StateMap([("diff_id", layer.hostSpecific ? .volatile(digest) : digest), ("files", .int(layer.files))]))
    }
    return m
  }
}

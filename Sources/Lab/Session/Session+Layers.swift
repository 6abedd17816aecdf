import Kernel

/// `overlay`, `rootfs` images, the file commands (`write`, `rm`, `cat`, `ls`, `which`), `commit`,
/// `layer ls` and `image ls|import|push|pull`.
extension Session {
  // MARK: Root filesystems

  func overlayCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("overlay", args, 1)
    let box = try currentBox("overlay")
    let names = args[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    var layers: [String] = []
    for name in names {
      for layer in try resolveLayers(name) where !layers.contains(layer) { layers.append(layer) }
    }
    guard layers.count <= Overlay.maxLayers else {
      throw LabError(
        "\(layers.count) layers are more than boxwalk stacks",
        [("rule", "at most \(Overlay.maxLayers) lower layers (the kernel allows 500)"), LabError.unchanged])
    }
    try refuseIfSharingHostMounts(box, "overlay")
    try requireHostRoot(box)
    try runStep(.layer(.overlay(box: box, names: names, layers: layers)), input: line, into: &out)
  }

  /// `rootfs IMAGE` is `overlay IMAGE` for exactly one image: the image's layers under a
  /// writable upper layer, mounted where the box's root filesystem goes. Nothing is copied, and
  /// the result is a mount point, which pivot_root(2) requires of a new root.
  ///
  /// `rootfs IMAGE --dir` copies the image's files into a plain directory instead: what an image
  /// unpacked by `docker export | tar -x` is, and what pivot_root(2) refuses as a new root until
  /// a bind mount makes it a mount point.
  func rootfsCommand(_ args: [String], line: String, into out: inout Output) throws {
    var args = args
    let plain = args.contains("--dir")
    args.removeAll { $0 == "--dir" }
    try arity("rootfs", args, 1)
    let box = try currentBox("rootfs")
    let image = try existingImage(args[0])
    let layers = try resolveLayers(image)
    try refuseIfSharingHostMounts(box, "rootfs")
    try requireHostRoot(box)
    try runStep(.layer(.overlay(box: box, names: [image], layers: layers, plain: plain)), input: line, into: &out)
  }

  /// The layers a name stands for: an image's (top first), or one layer.
  func resolveLayers(_ name: String) throws -> [String] {
    if let image = try? ImageName.parse(name).get(), let stored = storedImage(image.description) {
      return stored.layers
    }
    if storedLayer(name) != nil {
      // A layer no image names is known to the real store by its directory alone: its blob,
      // which a commit on top of it would name, is not (docs/lessons.md, "Resetting a machine between classes").
      guard imageLayers().contains(where: { $0.layers.contains(name) }) else {
        throw LabError(
          "layer \(name) is named by no image any more: it is only waiting to be removed",
          [
            ("why", "its image's name moved to other content; the store keeps the layer's files, not what it was"),
            ("fix", "layer rm \(name) removes it, image prune every such layer; overlay an image"),
            ("images", imageNames().joined(separator: " ")), LabError.unchanged,
          ])
      }
      return [name]
    }
    if case .failure(let e) = ImageName.parse(name) {
      throw LabError(
        "\(quotedForTerminal(name)) is not an image or layer name",
        [("rule", e.rule), ("images", imageNames().joined(separator: " ")), LabError.unchanged])
    }
    var details: [(String, String)] = [
      ("images", imageNames().joined(separator: " ")), ("layers", layerNames().joined(separator: " ")),
    ]
    if let near = Nearest.match(name, in: imageNames() + layerNames()) { details.append(("did you mean", near)) }
    details.append(LabError.unchanged)
    throw LabError("no image or layer named \(quotedForTerminal(name))", details)
  }

  func existingImage(_ text: String) throws -> String {
    let image: ImageName
    switch ImageName.parse(text) {
    case .success(let i): image = i
    case .failure(let e):
      throw LabError(
        "\(quotedForTerminal(text)) is not an image name", [("rule", e.rule), LabError.unchanged])
    }
    guard storedImage(image.description) != nil else {
      var details: [(String, String)] = [("images", imageNames().joined(separator: " "))]
      if let near = Nearest.match(image.description, in: imageNames()) { details.append(("did you mean", near)) }
      details.append(LabError.unchanged)
      throw LabError("no image named \(quotedForTerminal(text))", details)
    }
    return image.description
  }

  func requireHostRoot(_ box: String) throws {
    guard let root = facts.box(box)?.process.root, root != .host else { return }
    throw LabError(
      "\(box) already has a root filesystem: \(root.text)", [("fix", "box new for a fresh box"), LabError.unchanged])
  }

  /// The image of the image store named `name` (as ImageName.description writes it), from the
  /// kernel's facts: the store is the host's, not a box's, so no tree key stands for it here.
  func storedImage(_ name: String) -> ImageFacts? { facts.images.first { $0.name.description == name } }

  /// The layer of the image store named `name`, from the kernel's facts.
  func storedLayer(_ name: String) -> LayerFacts? { facts.layers.first { $0.name == name } }

  /// Whether the box has a root filesystem of its own (prepared or entered), from its facts; a
  /// box boxwalk does not know has none.
  func hasOwnRoot(_ box: String) -> Bool { (facts.box(box)?.process.root ?? .host) != .host }

  /// The store's images, in the order `host.images` lists them (by full name), from the facts.
  func imageNames() -> [String] {
    facts.images.sorted { $0.name.full < $1.name.full }.map(\.name.description)
  }

  /// The store's layers, in the order `host.layers` lists them, from the facts.
  func layerNames() -> [String] { facts.layers.map(\.name).sorted() }

  // MARK: Files

  /// The box whose root filesystem the file commands address; refused while it has none (its
  /// paths would be the host's files).
  func fileBox(_ command: String) throws -> String {
    let box = try currentBox(command)
    guard hasOwnRoot(box) else {
      throw LabError(
        "\(box) has no root filesystem of its own, so \(command) would touch the host's files",
        [("fix", "overlay busybox (or rootfs busybox) gives it one"), LabError.unchanged])
    }
    return box
  }

  func writeCommand(_ args: [String], line: String, into out: inout Output) throws {
    if args.count > 2 {
      // The text is one word: `write /srv/index.html hello from a layer` is five.
      let text = args.dropFirst().joined(separator: " ")
      throw tooMany(
        "write", args, fix: "quote text with spaces: write \(ShellWord.quote(args[0])) \(ShellWord.quote(text))"
      )
    }
    try arity("write", args, 2)
    let box = try fileBox("write")
    let path = try checkPath(args[0])
    try refuseRoot(path, "write")
    guard !args[1].contains("\0"), args[1].utf8.count <= 4096 else {
      throw LabError("the text has a NUL byte or is longer than 4096 bytes", [LabError.unchanged])
    }
    try runStep(.layer(.writeFile(box: box, path: path, text: args[1])), input: line, into: &out)
  }

  func rmCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("rm", args, 1)
    let box = try fileBox("rm")
    let path = try checkPath(args[0])
    try refuseRoot(path, "rm")
    // rmdir(2) of a mount point is EBUSY, but only after rm has removed what it reached first,
    // in the order the directory lists it: the kernel's answer would come with some files gone
    // and which ones left to chance. So a path with a mount at or below it is refused before
    // anything is removed.
    if let point = facts.box(box)?.process.mounts.map(\.path).filter({ $0 == path || $0.hasPrefix(path + "/") }).min() {
      throw LabError(
        "\(point) is a mount point\(point == path ? "" : " below \(path)"): rm would remove what it reached first and then fail with EBUSY",
        [
          ("rule", "the kernel never removes a mount point (rmdir(2): EBUSY); boxwalk checks before removing anything"),
          ("fix", "umount \(point) first"), LabError.unchanged,
        ])
    }
    try runStep(.layer(.removeFile(box: box, path: path)), input: line, into: &out)
  }

  func refuseRoot(_ path: String, _ command: String) throws {
    if path == "/" {
      throw LabError(
        "\(command) / would act on the root directory itself", [("fix", "name a path below /"), LabError.unchanged])
    }
  }

  func catCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("cat", args, 1)
    let box = try fileBox("cat")
    let path = try checkPath(args[0])
    let bytes = try reading(line) { () throws(KernelError) in try kernel.readFile(box: box, path: path) }
    var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map {
      escapedForTerminal(String(decoding: $0, as: UTF8.self))
    }
    if lines.last == "" { lines.removeLast() }
    out.lines += lines
  }

  func lsCommand(_ args: [String], line: String, into out: inout Output) throws {
    guard args.count <= 1 else { throw tooMany("ls", args) }
    let box = try fileBox("ls")
    let path = try checkPath(args.first ?? "/")
    let entries = try reading(line) { () throws(KernelError) in try kernel.listDirectory(box: box, path: path) }
    if entries.isEmpty { out.lines.append("(empty)") }
    for e in entries {
      switch e.kind {
      case .directory: out.lines.append(escapedForTerminal(e.name) + "/")
      case .symlink(let target): out.lines.append(escapedForTerminal(e.name) + " -> " + escapedForTerminal(target))
      case .special(let kind): out.lines.append(escapedForTerminal(e.name) + "  (\(kind))")
      default: out.lines.append(escapedForTerminal(e.name))
      }
    }
  }

  func whichCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("which", args, 1)
    let box = try fileBox("which")
    let path = try checkPath(args[0])
    let found: (layer: String, kind: LayerEntryKind)
    do {
      found = try kernel.origin(box: box, path: path)
    } catch {
      if error.errno == .ENOENT, whiteouts(box).contains(where: { path == $0 || path.hasPrefix($0 + "/") }) {
        throw LabError(
          "\(path) is not in \(box)'s root filesystem",
          [("why", "a whiteout in the upper layer hides what the layers below have there"), LabError.unchanged])
      }
      if error.errno == .ENOENT, let dir = opaqueAncestor(box, of: path) {
        throw LabError(
          "\(path) is not in \(box)'s root filesystem",
          [
            ("why", "\(dir) is an opaque directory in the upper layer: it hides what the layers below have in it"),
            LabError.unchanged,
          ])
      }
      if error.errno == .ENOENT {
        // Not in the upper layer, and no lower layer shows it: none has it, or a whiteout in a
        // lower layer (a file removed before a commit) hides it from the ones below.
        throw LabError(
          "\(path) is not in \(box)'s root filesystem",
          [
            (
              "why",
              "no layer of \(box) has it, or a whiteout in one of its image's layers hides it (a file removed "
                + "before commit is a .wh. entry in that layer)"
            ),
            ("see", "ls \(ShellWord.quote(Overlay.parent(of: path))) lists what the merged view has there"),
            LabError.unchanged,
          ])
      }
      throw readError(error, line)
    }
    let what =
      switch found.kind {
      case .directory: "directory"
      case .symlink: "symlink"
      case .special(let kind): kind
      default: "file"
      }
    if found.layer == "upper" {
      out.lines.append("\(path): \(what) in the upper layer (\(box)'s own, writable)")
    } else {
      out.lines.append("\(path): \(what) from layer \(found.layer) (read-only)")
    }
  }

  /// The nearest directory above `path` that the box's upper layer holds as an opaque directory
  /// (it hides what the layers below have in it), from the kernel's facts about the box's layers.
  func opaqueAncestor(_ box: String, of path: String) -> String? {
    let upper = facts.box(box)?.process.fs?.upper ?? []
    let opaque = Set(upper.filter { $0.kind == .directory(opaque: true) }.map(\.path))
    guard !opaque.isEmpty else { return nil }
    var dir = Overlay.parent(of: path)
    while dir != "/" {
      if opaque.contains(dir) { return dir }
      dir = Overlay.parent(of: dir)
    }
    return nil
  }

  /// The paths the box's upper layer whites out, from the kernel's facts about its layers.
  func whiteouts(_ box: String) -> [String] {
    (facts.box(box)?.process.fs?.upper ?? []).filter { $0.kind == .whiteout }.map(\.path)
  }

  /// Runs a read on the kernel; a failure reads like a failed step.
  func reading<T>(_ line: String, _ body: () throws(KernelError) -> T) throws -> T {
    do {
      return try body()
    } catch {
      throw readError(error, line)
    }
  }

  func readError(_ error: KernelError, _ line: String) -> LabError {
    var details: [(String, String)] = [("command", escapedForTerminal(line))]
    if let detail = error.detail { details.append(("detail", detail)) }
    details.append(("meaning", "\(error.errno.name): \(error.errno.meaning)"))
    if error.errno == .ELOOP {
      details.append(
        ("why", "file commands follow no symbolic link (RESOLVE_NO_SYMLINKS): a link in a layer could point anywhere"))
    }
    return LabError("\(error.call): \(error.errno.name)", details, errno: error.errno)
  }

  // MARK: Layers and images

  func commitCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("commit", args, 1)
    let box = try fileBox("commit")
    let image = try newImageName(args[0])
    try runStep(.layer(.commit(box: box, image: image)), input: line, into: &out)
  }

  /// A name for a new local image: not a registry reference, not taken.
  func newImageName(_ text: String) throws -> ImageName {
    if (try? RegistryRef.parse(text).get()) != nil {
      throw LabError(
        "\(quotedForTerminal(text)) is a registry reference; local images are NAME[:TAG]",
        [("fix", "name it app:v1, then image push HOST:PORT/app:v1"), LabError.unchanged])
    }
    let image: ImageName
    switch ImageName.parse(text) {
    case .success(let i): image = i
    case .failure(let e):
      throw LabError(
        "\(quotedForTerminal(text)) is not an image name", [("rule", e.rule), LabError.unchanged])
    }
    if storedImage(image.description) != nil || storedLayer(image.description) != nil {
      throw LabError(
        "an image or layer named \(image) exists", [("fix", "pick another name or tag (app:v2)"), LabError.unchanged])
    }
    return image
  }

  func layerCommand(_ args: [String], line: String, into out: inout Output) throws {
    guard let sub = args.first else { throw usage("layer", "layer needs a subcommand: ls or rm") }
    if sub == "rm" { return try layerRemove(Array(args.dropFirst()), line: line, into: &out) }
    guard sub == "ls" else { throw unknown("layer \(sub)", candidates: ["layer ls", "layer rm"]) }
    try arity("layer ls", Array(args.dropFirst()), 0)
    try refresh()
    var rows = [["LAYER", "FILES", "DIFF_ID", "USED BY"]]
    guard case .map(let layers)? = tree.value(at: StatePath(keys: "host", "layers")) else { return }
    for (name, v) in layers.entries {
      let id = v["diff_id"]
      let digest = id.map { $0.isVolatile ? "(this host's)" : String(($0.stringValue ?? "").prefix(19)) } ?? "?"
      let users = imageNames().filter { storedImage($0)?.layers.contains(name) == true }
      rows.append([name, v["files"].map(\.scalarText) ?? "?", digest, users.joined(separator: " ")])
    }
    out.lines += DiffTable.table(rows)
  }

  func imageCommand(_ args: [String], line: String, into out: inout Output) throws {
    guard let sub = args.first else {
      throw usage("image", "image needs a subcommand: ls, import, tag, push, pull, prune or rm")
    }
    let rest = Array(args.dropFirst())
    switch sub {
    case "ls":
      try arity("image ls", rest, 0)
      try refresh()
      var rows = [["IMAGE", "LAYERS (top first)"]]
      guard case .map(let images)? = tree.value(at: StatePath(keys: "host", "images")) else { return }
      for (name, v) in images.entries {
        let layers: [String] = {
          if case .list(let items)? = v["layers"] { return items.compactMap(\.stringValue) }
          return []
        }()
        rows.append([name, layers.joined(separator: " ")])
      }
      out.lines += rows.count == 1 ? ["no images"] : DiffTable.table(rows)
    case "import":
      try arity("image import", rest, 2)
      let image = try newImageName(rest[0])
      if BoxPath.problem(rest[1]) != nil {
        throw LabError(
          "\(quotedForTerminal(rest[1])) is not a directory boxwalk imports",
          [
            ("rule", "an absolute host path, without . or .. parts, // or a trailing /"), ("example", "/srv/app"),
            LabError.unchanged,
          ])
      }
      try runStep(.layer(.imageImport(image: image, directory: rest[1])), input: line, into: &out)
    case "tag":
      try arity("image tag", rest, 2)
      let source = try ImageName.parse(existingImage(rest[0])).get()
      let target: ImageName
      if let ref = try? RegistryRef.parse(rest[1]).get() {
        target = ref.localName
      } else {
        target = try newImageName(rest[1])
      }
      try runStep(.layer(.imageTag(source: source, target: target)), input: line, into: &out)
    case "push":
      try arity("image push", rest, 1)
      let ref = try registryRef(rest[0])
      // As docker push: the local image named by the whole reference (image tag makes one),
      // else the one named REPOSITORY:TAG.
      let local = [ref.localName, ImageName(name: ref.repository, tag: ref.tag)].first {
        storedImage($0.description) != nil
      }
      guard let local else {
        throw LabError(
          "no local image \(ref) or \(ImageName(name: ref.repository, tag: ref.tag)) to push",
          [
            ("rule", "image push REF sends the local image named REF, or REPOSITORY:TAG"),
            ("fix", "image tag IMAGE \(ref)"), ("images", imageNames().joined(separator: " ")), LabError.unchanged,
          ])
      }
      try runStep(.layer(.imagePush(image: local, ref: ref)), input: line, into: &out)
    case "pull":
      try arity("image pull", rest, 1)
      try runStep(.layer(.imagePull(ref: try registryRef(rest[0]))), input: line, into: &out)
    case "prune":
      try arity("image prune", rest, 0)
      try runStep(.layer(.imagePrune), input: line, into: &out)
    case "rm":
      try imageRemove(rest, line: line, into: &out)
    default:
      throw unknown(
        "image \(sub)", candidates: ["ls", "import", "tag", "push", "pull", "prune", "rm"].map { "image " + $0 })
    }
  }

  func registryRef(_ text: String) throws -> RegistryRef {
    switch RegistryRef.parse(text) {
    case .success(let ref): return ref
    case .failure(let e):
      throw LabError(
        "\(quotedForTerminal(text)) is not a registry reference",
        [("rule", e.rule), ("example", "localhost:5000/app:v1 or oci:shelf/app:v1"), LabError.unchanged])
    }
  }

  // MARK: Rendering

  /// The file system type and mount point of the mount (not a bind mount, and not the root
  /// filesystem's own) that a path lies under, when a file step there left the root filesystem's
  /// layers as they were: the kernel's path walk went into that mount, so the step changed its
  /// files, which the state does not show (a tmpfs over /etc hides the image's /etc). Decided
  /// by the kernel's facts: the box's root filesystem before and after, and its mounts.
  func hiddenByMount(_ box: String, _ path: String, before: FactsBefore) -> (String, String)? {
    guard let now = facts.box(box)?.process, before.box?.fs == now.fs else { return nil }
    return mountHolding(path, in: now.mounts)
  }

  /// The file system (not the root's layers) that holds `path`, and where it is mounted: the
  /// innermost mount at or above it. A bind mount (its source a path) shows the directory it was
  /// made from, with the mounts on it (OPEN_TREE_CLONE|AT_RECURSIVE): the path is followed to its
  /// source. (The state keeps no mount order, so a mount made on the source after the bind is
  /// taken as seen through it too.) nil: the root filesystem's layers hold it.
  func mountHolding(_ path: String, in mounts: [MountFacts], depth: Int = 0) -> (String, String)? {
    guard depth < 8,
      let point = mounts.map(\.path).filter({ $0 != "/" && (path == $0 || path.hasPrefix($0 + "/")) }).max(by: {
        $0.count < $1.count
      }),
      let mount = mounts.last(where: { $0.path == point }), !mount.source.hasPrefix("host:")
    else { return nil }
    if mount.source.hasPrefix("/") {
      return mount.source == point
        ? nil : mountHolding(mount.source + path.dropFirst(point.count), in: mounts, depth: depth + 1)
    }
    return (mount.fstype, point)
  }

  func layerSummary(_ step: LayerStep, _ result: StepResult, before: FactsBefore, after t: StateValue) -> [String] {
    switch step {
    case .overlay(let box, let names, _, true):
      return [
        "\(box)'s root filesystem is a plain directory with the files of \(names.joined(separator: ",")), copied; it is not a mount point, and not entered yet"
      ]
    case .overlay(let box, let names, let layers, false):
      return [
        "\(box)'s root filesystem is an overlay of \(names.joined(separator: ",")) (layers \(layers.joined(separator: " "))) under a writable upper layer, not entered yet"
      ]
    case .writeFile(let box, let path, _) where facts.box(box)?.process.fs == nil:
      return ["wrote \(path) in \(box)'s root filesystem"]
    case .writeFile(let box, let path, _) where hiddenByMount(box, path, before: before) != nil:
      guard let (fstype, point) = hiddenByMount(box, path, before: before) else { return [] }
      return [
        "wrote \(path) in \(box): in the \(fstype) mounted on \(point), which hides what the root filesystem has there"
      ]
    case .writeFile(let box, let path, _):
      let was = before.box?.fs?.files.last { $0.path == path }?.layer
      let how =
        switch was {
        case nil: "a new file in the upper layer"
        case "upper": "the upper layer's copy changed"
        case let layer?: "copied up from layer \(layer) first; \(layer) itself did not change"
        }
      return ["wrote \(path) in \(box): \(how)"]
    case .removeFile(let box, let path) where hiddenByMount(box, path, before: before) != nil:
      guard let (fstype, point) = hiddenByMount(box, path, before: before) else { return [] }
      return [
        "removed \(path) from \(box): from the \(fstype) mounted on \(point); the root filesystem's layers did not change"
      ]
    case .removeFile(let box, let path):
      guard let fs = facts.box(box)?.process.fs else {
        return ["removed \(path) from \(box)'s root filesystem"]
      }
      return fs.upper.last(where: { $0.path == path })?.kind == .whiteout
        ? [
          "removed \(path) from \(box): a whiteout in the upper layer hides the lower layers' copy, which did not change"
        ]
        : ["removed \(path) from \(box): it was only in the upper layer"]
    case .commit(let box, let image):
      return result.output.isEmpty
        ? [] : ["image \(image) is \(box)'s upper layer on top of its layers; \(box) goes on with the same upper layer"]
    case .imageImport(let image, let directory):
      return ["image \(image): one layer, made from \(directory)"]
    case .imageTag(let source, let target):
      return ["\(target) now names the same image as \(source)"]
    case .imagePush(let image, let ref):
      return [image == ref.localName ? "pushed \(ref)" : "pushed \(image) to \(ref)"]
    case .imagePull(let ref):
      return ["pulled \(ref); overlay or rootfs take it by that name"]
    case .imageRemove(let image, let layers):
      return [
        layers.isEmpty
          ? "removed image \(image); its layers stay: other images use them"
          : "removed image \(image) and its layers no other image used: \(layers.joined(separator: " "))"
      ]
    case .layerRemove(let name):
      return ["removed layer \(name)"]
    case .imagePrune:
      return result.output.isEmpty
        ? ["nothing to prune: the images use every layer in the store"]
        : ["removed what no image needs; every image is as it was"]
    }
  }
}

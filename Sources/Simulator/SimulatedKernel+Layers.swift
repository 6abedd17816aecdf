import Kernel
import OCI

/// Layers and images: overlay mounts, the file commands with copy-up and whiteouts as overlayfs
/// makes them (Documentation/filesystems/overlayfs.rst), commit, import, push and pull.
extension SimulatedKernel {
  /// The layer steps (`step` is `.layer(s)`, for errors): the box's root filesystem and files,
  /// then the image store's.
  func performLayer(_ s: LayerStep, _ step: Step) throws(KernelError) -> StepResult {
    guard s.box != nil else { return try performImageStep(s, step) }
    let i = try boxIndex(step)
    switch s {
    case .overlay(_, let names, let layers, let plain):
      if plain {
        try plainRoot(i, names: names, layers: layers, step)
      } else {
        try overlay(i, names: names, layers: layers, step)
      }
    case .writeFile(_, let path, let text): try writeFile(i, path, text, step)
    case .removeFile(_, let path): try removeFile(i, path, step)
    case .commit(_, let image): return try commit(i, image, step)
    case .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune, .imageRemove, .layerRemove: break
    }
    return .none
  }

  // MARK: Image store steps

  func performImageStep(_ s: LayerStep, _ step: Step) throws(KernelError) -> StepResult {
    switch s {
    case .imageImport(let image, let directory):
      return try importImage(image, directory, step)
    case .imageTag(let source, let target):
      guard let entry = store.images[source.full] else {
        throw KernelError(step: step, call: step.entry(.layer), errno: .ENOENT, detail: "no image named \(source)")
      }
      store.images[target.full] = (target, entry.layers)
      return .none
    case .imagePush(let image, let ref):
      return try push(image, ref, step)
    case .imagePull(let ref):
      return try pull(ref, step)
    case .imageRemove(let image, let layers):
      guard let removed = store.images.removeValue(forKey: image.full) else {
        throw KernelError(step: step, call: step.entry(.layer), errno: .ENOENT, detail: "no image named \(image)")
      }
      // As the real store: a layer goes only when no image is left that names it, and no box
      // runs on it (that one stays, going by its digest, until a later prune or layer rm). So
      // do its blobs: the manifest, the config and the layers' own.
      let used = store.namedLayers
      let running = boxLowerIDs
      store.blobs.subtract(store.imageBlobs(removed.layers).subtracting(store.referencedBlobs))
      store.layers.removeAll { layers.contains($0.name) && !used.contains($0.name) && !running.contains($0.diffID) }
      return .none
    case .layerRemove(let name):
      guard let layer = store.layer(name) else {
        throw KernelError(step: step, call: step.entry(.layer), errno: .ENOENT, detail: "no layer named \(name)")
      }
      if let box = boxes.first(where: {
        $0.process.root.id.flatMap { filesystems[$0] }?.lowerIDs.contains(layer.diffID) == true
      }) {
        throw KernelError(
          step: step, call: step.entry(.layer), errno: .EBUSY, detail: ImageTransfer.layerBusy(box: box.name))
      }
      store.layers.removeAll { $0.diffID == layer.diffID }
      return .none
    case .imagePrune:
      return prune()
    case .overlay, .writeFile, .removeFile, .commit:
      return .none  // performLayer took the box's steps
    }
  }

  /// `image import`: a host directory becomes a one-layer image (read by the reader the
  /// simulator was given; it reads no host files itself).
  private func importImage(_ image: ImageName, _ directory: String, _ step: Step) throws(KernelError) -> StepResult {
    guard store.images[image.full] == nil, store.layer(image.description) == nil else {
      throw KernelError(
        step: step, call: step.entry { if case .layer(.renameIndex) = $0 { true } else { false } }, errno: .EEXIST,
        detail: "an image or layer named \(image) exists")
    }
    guard let read = hostDirectoryReader else {
      throw KernelError(
        step: step, call: step.entry(.layer), errno: .ENOENT, detail: "the simulator was given no host directories")
    }
    let contents: LayerContents
    switch read(directory) {
    case .success(let c): contents = c
    case .failure(let e): throw KernelError(step: step, call: step.entry(.layer), errno: e.errno, detail: e.detail)
    }
    let added = store.add(name: image.description, contents: contents)
    store.setImage(image, [added.name])
    return .none
  }

  /// `image push`: the image's layers (bottom first), its config and its manifest to the
  /// simulated registry, each said as the real push says it.
  private func push(_ image: ImageName, _ ref: RegistryRef, _ step: Step) throws(KernelError) -> StepResult {
    guard let source = store.images[image.full] else {
      throw KernelError(step: step, call: step.entry(.layer), errno: .ENOENT, detail: "no image named \(image)")
    }
    try refuseServer(ref, step)
    var registry = store.registries[registryKey(ref)] ?? SimRegistry()
    var lines: [String] = []
    var bottomFirst: [(String, String)] = []
    for name in source.layers.reversed() {
      guard let layer = store.layer(name) else { continue }
      let existed = registry.blobs[layer.diffID] != nil
      registry.blobs[layer.diffID] = layer.contents
      lines.append(ImageTransfer.pushedLayer(name, existed: existed))
      bottomFirst.append((name, layer.diffID))
    }
    let config = bottomFirst.map(\.1)
    lines.append(ImageTransfer.pushedConfig(existed: registry.configs.contains(config)))
    registry.configs.insert(config)
    registry.tags[ref.repository + ":" + ref.tag] = bottomFirst
    lines.append(ImageTransfer.pushedManifest(ref))
    store.registries[registryKey(ref)] = registry
    return StepResult(output: lines)
  }

  /// `image pull`: the manifest, then each layer the store does not have yet.
  private func pull(_ ref: RegistryRef, _ step: Step) throws(KernelError) -> StepResult {
    try refuseServer(ref, step)
    guard let registry = store.registries[registryKey(ref)],
      let layers = registry.tags[ref.repository + ":" + ref.tag]
    else {
      throw KernelError(
        step: step, call: step.entry(.layer), errno: .ENOENT, detail: ImageTransfer.notInRegistry(ref))
    }
    var lines = [ImageTransfer.pulledManifest(ref, layers: layers.count)]
    var names: [String] = []
    for (name, diffID) in layers {
      guard let contents = registry.blobs[diffID] else { continue }
      let added = store.add(name: name, contents: contents)
      lines.append(ImageTransfer.pulledLayer(added.name, existed: added.existed))
      names.insert(added.name, at: 0)
    }
    store.setImage(ref.localName, names)
    return StepResult(output: lines)
  }

  /// `image prune`.
  private func prune() -> StepResult {
    // The simulator is never killed half-way, so it has no leftovers of a killed writer: what
    // it can have that no image needs is a layer no image names any more (its image was tagged
    // over or pulled again) and the blobs of images no name reaches.
    let used = store.namedLayers
    let running = boxLowerIDs
    let unused = store.layers.filter { !used.contains($0.name) && !running.contains($0.diffID) }
    store.layers.removeAll { l in unused.contains { $0.diffID == l.diffID } }
    // As the real store: the tar of a layer a box runs on stays with the layer (a commit on
    // that box names it in its new manifest).
    let referenced = store.referencedBlobs.union(running.map { .layer($0) })
    let blobs = store.blobs.subtracting(referenced).count
    store.blobs.formIntersection(referenced)
    return StepResult(
      output: unused.map(\.diffID).sorted().map(ImageTransfer.prunedLayer) + ImageTransfer.prunedBlobs(blobs))
  }

  // MARK: Box steps

  /// `overlay`: the upper and work directories, then the overlay mount at the root filesystem's
  /// place in the box's mount namespace, entry by entry. It is a mount point, so pivot_root
  /// accepts it as is.
  func overlay(_ i: Int, names: [String], layers: [String], _ step: Step) throws(KernelError) {
    // Before any entry is made, as boxwalk looks every layer up in the image store first.
    for name in layers where store.layer(name) == nil {
      throw KernelError(step: step, call: step.entry(.fsconfig), errno: .ENOENT, detail: "no layer named \(name)")
    }
    let p = boxes[i].process
    guard let mntInode = p.ns[.mnt], namespaces[mntInode] != nil else { throw missing(step, boxes[i].name) }
    try make(step) { entry throws(KernelError) in
      switch entry {
      // The upper and work directories are in the session's scratch space, and the layers'
      // paths are strings until the mount: nothing the model keeps.
      case .mkdir, .fsconfig(.setString), .fsmount: break
      case .fsopen:
        // The helper reaches the layer directories first, with the box's own credentials (a
        // failure names the fsconfig(2) entry of the directory); then fsopen("overlay") is the
        // first call that asks the kernel for a mount.
        try requireUpperReachable(p, layers: layers.count, step)
        try requireMountCapability(p, step, call: entry)
      case .fsconfig(.create): try requireOverlayAccess(p, layers: layers.count, step)
      case .moveOverlayRoot: attachOverlay(i, names: names, layers: layers, mntInode)
      default: throw unmodeled(entry, step)
      }
    }
  }

  /// move_mount(2) of the overlay onto the root filesystem's directory. The overlay is mounted
  /// on a directory of the session's, below the host's "/": shared when that is. Its copies in
  /// any peer namespace are at a path no other box's commands reach.
  private func attachOverlay(_ i: Int, names: [String], layers: [String], _ mntInode: UInt64) {
    let id = nextRootfs
    let shared = namespaces[mntInode]?.rootPeer != nil
    namespaces[mntInode]?.mounts.append(
      SimMount(
        root: .rootfs(id), path: "/", request: .overlay, propagation: shared ? .shared : .private,
        peer: shared ? newPeerGroup() : nil, shows: SimMountSource(tree: .layers(id), directory: "/")))
    nextRootfs += 1
    filesystems[id] = SimFilesystem(
      lowers: layers, lowerIDs: layers.compactMap { store.layer($0)?.diffID }, upper: LayerContents())
    boxes[i].process.root = .prepared(image: RootFacts.overlayText(names), id: id)
  }

  /// `rootfs IMAGE --dir`: the layers' merged files copied into a plain directory, with no mount.
  /// The copy is the directory's own, so it is the whole of the box's files, all in what the
  /// state calls the upper layer (overlayfs's marks are gone: a whiteout hides, it is not copied).
  /// Nothing is mounted: pivot_root(2) finds no mount point there (EINVAL) until a bind mount
  /// makes one.
  func plainRoot(_ i: Int, names: [String], layers: [String], _ step: Step) throws(KernelError) {
    for name in layers where store.layer(name) == nil {
      throw KernelError(step: step, call: step.entry(.layer), errno: .ENOENT, detail: "no layer named \(name)")
    }
    let p = boxes[i].process
    guard p.ns[.mnt] != nil else { throw missing(step, boxes[i].name) }
    let merged = Overlay.merged(layers.compactMap { store.layer($0)?.contents })
    let copy = LayerContents(merged.map(\.entry).filter { $0.kind != .whiteout })
    let id = nextRootfs
    nextRootfs += 1
    filesystems[id] = SimFilesystem(lowers: [], upper: copy)
    boxes[i].process.root = .prepared(image: RootFacts.directoryText(names), id: id)
  }

  /// A registry server is a program on the host's loopback, outside the lab: whether one
  /// listens on the port is a fact of the host, which `registryListens` reports (the CLI gives
  /// the simulator a probe of the real port; without one, none listens). With none, connect(2)
  /// to 127.0.0.1:PORT is ECONNREFUSED at the step's first request, as on real. With one, the
  /// simulator keeps that registry's content in memory.
  func refuseServer(_ ref: RegistryRef, _ step: Step) throws(KernelError) {
    guard case .server(_, let port) = ref.location, registryListens?(port) != true else { return }
    throw KernelError(step: step, call: step.entry(.layer), errno: .ECONNREFUSED, detail: "connect(127.0.0.1:\(port))")
  }

  /// boxwalk connects to 127.0.0.1 whether a reference says localhost or 127.0.0.1, so both
  /// name one registry.
  func registryKey(_ ref: RegistryRef) -> String {
    if case .server(_, let port) = ref.location { return "127.0.0.1:\(port)" }
    return ref.registry
  }

  func imageKey(_ image: String) -> String {
    (try? ImageName.parse(image).get())?.full ?? image
  }

  /// `write PATH TEXT`: make the missing parents, then open with O_TRUNC and write. The path is
  /// walked mount by mount (SimulatedKernel+MountedFiles.swift): what a mount covers is out of
  /// reach, and a file under a tmpfs lands in the tmpfs. In the overlay, the file and every
  /// directory above it are copied up first: overlayfs changes a directory only in the upper
  /// layer.
  func writeFile(_ i: Int, _ path: String, _ text: String, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let id = p.root.id, filesystems[id] != nil else {
      throw KernelError(
        step: step, call: step.entry(.openBeneath), errno: .ENOENT, detail: "the box has no root filesystem")
    }
    let open = step.entry(.openBeneath)
    let makeParents = step.entry { call in
      if case .layer(.makeParents) = call { return true }
      return call.kind == .openBeneath
    }
    var current = ""
    for part in Overlay.parent(of: path).split(separator: "/") {
      current += "/" + part
      guard let (tree, inner) = locate(current, p) else { continue }
      switch entry(tree, inner) {
      case .directory?: continue
      case .symlink?: throw KernelError(step: step, call: open, errno: .ELOOP)
      case .some: throw KernelError(step: step, call: open, errno: .ENOTDIR)
      case nil:
        // mkdirat(2) where the name is missing, in whatever file system the walk is in.
        switch tree {
        case .layers(let fsID):
          guard var fs = filesystems[fsID] else { continue }
          let layers = lowerContents(fs)
          copyUp(Overlay.parent(of: inner), &fs, layers)
          // A directory made where a whiteout is becomes opaque: what the layers below had there
          // stays hidden (overlayfs.rst, "whiteouts and opaque directories").
          let overWhiteout = fs.upper[inner]?.kind == .whiteout
          fs.upper[inner] = LayerEntry(path: inner, kind: .directory(opaque: overWhiteout), mode: 0o755)
          filesystems[fsID] = fs
        case .tmpfs(let sb):
          tmpfsFiles[sb]?[inner] = LayerEntry(path: inner, kind: .directory(opaque: false), mode: 0o755)
        case .proc, .sysfs: throw KernelError(step: step, call: makeParents, errno: .EROFS)
        case .mqueue, .node: throw KernelError(step: step, call: makeParents, errno: .EPERM)
        }
      }
    }
    guard let (tree, inner) = locate(path, p) else { return }
    let existing = entry(tree, inner)
    switch existing {
    case .directory?: throw KernelError(step: step, call: open, errno: .EISDIR)
    case .symlink?: throw KernelError(step: step, call: open, errno: .ELOOP)
    case .special(let kind)?:
      throw KernelError(
        step: step, call: open, errno: .EINVAL, detail: "it is a \(kind): boxwalk reads and writes regular files only")
    default: break
    }
    let bytes = Array((text + "\n").utf8)
    switch tree {
    case .layers(let fsID):
      guard var fs = filesystems[fsID] else { return }
      let layers = lowerContents(fs)
      let mode = Overlay.lookup(inner, in: [fs.upper] + layers)?.entry.mode ?? 0o644
      copyUp(Overlay.parent(of: inner), &fs, layers)
      fs.upper[inner] = LayerEntry(path: inner, kind: .file(bytes), mode: mode)
      filesystems[fsID] = fs
    case .tmpfs(let sb):
      let mode = tmpfsFiles[sb]?[inner]?.mode ?? 0o644
      tmpfsFiles[sb]?[inner] = LayerEntry(path: inner, kind: .file(bytes), mode: mode)
    case .proc, .sysfs: throw KernelError(step: step, call: open, errno: .EROFS)
    case .mqueue, .node:
      throw KernelError(step: step, call: open, errno: .EOPNOTSUPP, detail: Self.madeUp(tree))
    }
  }

  /// `rm PATH`: remove it (a directory with what is in it); in the overlay, if a lower layer
  /// still shows it, leave a whiteout. A mount point, or a directory with a mount below it, is
  /// busy: the real backend does not cross into another mounted file system (EBUSY).
  func removeFile(_ i: Int, _ path: String, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let id = p.root.id, filesystems[id] != nil else {
      throw KernelError(
        step: step, call: step.entry(.openBeneath), errno: .ENOENT, detail: "the box has no root filesystem")
    }
    let unlink = step.entry { call in
      if case .layer(.unlink) = call { return true }
      return false
    }
    if let errno = parentFailure(path, p) {
      throw KernelError(step: step, call: step.entry(.openBeneath), errno: errno)
    }
    guard let (tree, inner) = locate(path, p), let found = entry(tree, inner) else {
      throw KernelError(step: step, call: unlink, errno: .ENOENT)
    }
    if isMountPoint(path, p) || (found.isDirectory && hasMountBelow(path, p)) {
      throw KernelError(step: step, call: unlink, errno: .EBUSY)
    }
    switch tree {
    case .layers(let fsID):
      guard var fs = filesystems[fsID] else { return }
      let layers = lowerContents(fs)
      copyUp(Overlay.parent(of: inner), &fs, layers)
      fs.upper.removeTree(inner)
      if Overlay.lookup(inner, in: [fs.upper] + layers) != nil {
        fs.upper[inner] = LayerEntry(path: inner, kind: .whiteout, mode: 0)
      }
      filesystems[fsID] = fs
    case .tmpfs(let sb): tmpfsFiles[sb]?.removeTree(inner)
    case .proc, .sysfs: throw KernelError(step: step, call: unlink, errno: .EROFS)
    case .mqueue, .node: throw KernelError(step: step, call: unlink, errno: .EOPNOTSUPP, detail: Self.madeUp(tree))
    }
  }

  /// `commit NAME`: the upper layer, as it is, becomes a layer on top of the box's lowers.
  func commit(_ i: Int, _ image: ImageName, _ step: Step) throws(KernelError) -> StepResult {
    guard let id = boxes[i].process.root.id, let fs = filesystems[id] else {
      throw KernelError(
        step: step, call: step.entry(.layer), errno: .EINVAL, detail: "the box's root filesystem is not an overlay")
    }
    guard store.images[image.full] == nil, store.layer(image.description) == nil else {
      throw KernelError(
        step: step, call: step.entry { if case .layer(.renameIndex) = $0 { true } else { false } }, errno: .EEXIST,
        detail: "an image or layer named \(image) exists")
    }
    let added = store.add(name: image.description, contents: fs.upper)
    // The lowers as they are stored now: one no image names may have been renamed meanwhile.
    store.setImage(image, [added.name] + fs.lowerIDs.compactMap { store.layer(diffID: $0)?.name })
    return StepResult(
      output: ImageTransfer.committed(added.name, diffID: added.diffID, tarNames: LayerTar.entryNames(fs.upper)))
  }

  // MARK: Reading

  public func readFile(box: String, path: String) throws(KernelError) -> [UInt8] {
    let call = FileCalls.read(box, path)
    let p = try rootedProcess(box, call)
    if let errno = parentFailure(path, p) { throw KernelError(call: call, errno: errno) }
    guard let (tree, inner) = locate(path, p), let found = entry(tree, inner) else {
      throw KernelError(call: call, errno: .ENOENT)
    }
    switch found {
    case .directory: throw KernelError(call: call, errno: .EISDIR)
    case .symlink: throw KernelError(call: call, errno: .ELOOP)
    case .special(let kind):
      throw KernelError(
        call: call, errno: .EINVAL, detail: "it is a \(kind): boxwalk reads and writes regular files only")
    default: break
    }
    switch tree {
    case .layers(let id):
      guard let fs = filesystems[id],
        case .file(let bytes)? = Overlay.lookup(inner, in: [fs.upper] + lowerContents(fs))?.entry.kind
      else { throw KernelError(call: call, errno: .ENOENT) }
      return Array(bytes.prefix(FileCalls.maxRead))
    case .tmpfs(let sb):
      guard case .file(let bytes)? = tmpfsFiles[sb]?[inner]?.kind else { throw KernelError(call: call, errno: .ENOENT) }
      return Array(bytes.prefix(FileCalls.maxRead))
    case .proc, .sysfs, .mqueue, .node:
      throw KernelError(call: call, errno: .EOPNOTSUPP, detail: Self.madeUp(tree))
    }
  }

  public func listDirectory(box: String, path: String) throws(KernelError) -> [DirectoryEntry] {
    let call = FileCalls.list(box, path)
    let p = try rootedProcess(box, call)
    if let errno = parentFailure(path, p) { throw KernelError(call: call, errno: errno) }
    guard let found = entry(at: path, p) else { throw KernelError(call: call, errno: .ENOENT) }
    // O_DIRECTORY|O_NOFOLLOW on a symbolic link: the kernel answers ENOTDIR, not ELOOP.
    guard found.isDirectory else { throw KernelError(call: call, errno: .ENOTDIR) }
    guard let names = names(in: path, p) else {
      let tree = locate(path, p)?.0 ?? .proc
      throw KernelError(call: call, errno: .EOPNOTSUPP, detail: Self.madeUp(tree))
    }
    return names.map { DirectoryEntry(name: $0.name, kind: $0.kind.plain) }
  }

  public func origin(box: String, path: String) throws(KernelError) -> (layer: String, kind: LayerEntryKind) {
    let call = FileCalls.origin(box, path)
    let (fs, layers) = try filesystem(box, call)
    guard let found = Overlay.lookup(path, in: [fs.upper] + layers) else {
      throw KernelError(call: call, errno: .ENOENT)
    }
    return (found.layer == 0 ? "upper" : fs.lowers[found.layer - 1], found.entry.kind.plain)
  }

  // MARK: Facts

  func fsFacts(_ p: SimProcess) -> FSFacts? {
    guard let id = p.root.id, let fs = filesystems[id] else { return nil }
    if let hit = fsFactsCache[id], hit.lowers == fs.lowers, hit.upper == fs.upper { return hit.facts }
    let facts = FSFacts(layerNames: fs.lowers, upper: fs.upper, lowers: mergedLowers(fs.lowerIDs))
    fsFactsCache[id] = (fs.lowers, fs.upper, facts)
    return facts
  }

  /// The merged view of a stack of lower layers (diff_ids, top first), made once per stack: a
  /// layer is its content, so its diff_id says it all.
  func mergedLowers(_ diffIDs: [String]) -> MergedLowers {
    if let known = mergedLowersCache[diffIDs] { return known }
    let merged = MergedLowers(diffIDs.compactMap { store.layer(diffID: $0)?.contents })
    mergedLowersCache[diffIDs] = merged
    return merged
  }

  /// The diff_ids of the layers some box's overlay reads.
  var boxLowerIDs: Set<String> {
    Set(boxes.compactMap { $0.process.root.id.flatMap { filesystems[$0] } }.flatMap(\.lowerIDs))
  }

  // MARK: Helpers

  /// The box's process, which must have a root filesystem.
  private func rootedProcess(_ box: String, _ call: String) throws(KernelError) -> SimProcess {
    guard let i = index(of: box) else { throw KernelError(call: call, errno: .ESRCH, detail: "no box named \(box)") }
    guard let id = boxes[i].process.root.id, filesystems[id] != nil else {
      throw KernelError(call: call, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    return boxes[i].process
  }

  private func filesystem(_ box: String, _ call: String) throws(KernelError) -> (SimFilesystem, [LayerContents]) {
    guard let i = index(of: box) else { throw KernelError(call: call, errno: .ESRCH, detail: "no box named \(box)") }
    guard let id = boxes[i].process.root.id, let fs = filesystems[id] else {
      throw KernelError(call: call, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    return (fs, lowerContents(fs))
  }

  func lowerContents(_ fs: SimFilesystem) -> [LayerContents] {
    fs.lowerIDs.compactMap { store.layer(diffID: $0)?.contents }
  }

  /// Copies `directory` and its parents up into the upper layer (as directories with the lower's
  /// mode), the way overlayfs does before it changes anything inside them.
  private func copyUp(_ directory: String, _ fs: inout SimFilesystem, _ layers: [LayerContents]) {
    guard directory != "/" else { return }
    copyUp(Overlay.parent(of: directory), &fs, layers)
    if let e = fs.upper[directory], e.kind.isDirectory { return }
    let mode = Overlay.lookup(directory, in: layers)?.entry.mode ?? 0o755
    fs.upper[directory] = LayerEntry(path: directory, kind: .directory(opaque: false), mode: mode)
  }
}

extension LayerEntryKind {
  /// The kind as the merged view shows it: no directory is "opaque" there.
  var plain: LayerEntryKind {
    if case .directory = self { return .directory(opaque: false) }
    return self
  }
}

extension SimRootState {
  var id: Int? {
    switch self {
    case .host: nil
    case .prepared(_, let id), .pivoted(_, let id), .chrooted(_, let id): id
    }
  }
}

/// Why reading a host directory failed, for `image import`.
public struct HostDirectoryError: Error, Sendable {
  public var errno: Errno
  public var detail: String?
  public init(errno: Errno, detail: String? = nil) {
    self.errno = errno
    self.detail = detail
  }
}

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

  /// The image store's steps, entry by entry. Each entry is a group of calls boxwalk makes in its
  /// own process (Kernel/Steps/LayerStep.swift); the simulator's store is in memory, and each
  /// entry changes it as the real store's entry changes its files.
  func performImageStep(_ s: LayerStep, _ step: Step) throws(KernelError) -> StepResult {
    switch s {
    case .imageImport(let image, let directory): return try importImage(image, directory, step)
    case .imageTag(let source, let target):
      try make(step) { entry throws(KernelError) in
        guard case .layer(.renameIndex) = entry else { throw unmodeled(entry, step) }
        guard let found = store.images[source.full] else {
          throw KernelError(step: step, call: entry, errno: .ENOENT, detail: "no image named \(source)")
        }
        store.images[target.full] = (target, found.layers)
      }
      return .none
    case .imagePush(let image, let ref): return try push(image, ref, step)
    case .imagePull(let ref): return try pull(ref, step)
    case .imageRemove(let image, _): try removeImage(image, step)
    case .layerRemove(let name):
      try make(step) { entry throws(KernelError) in
        guard case .layer(.removeUnusedLayer) = entry else { throw unmodeled(entry, step) }
        try removeLayer(name, step, entry)
      }
    case .imagePrune: return try prune(step)
    case .overlay, .writeFile, .removeFile, .commit: break  // performLayer takes the box's steps
    }
    return .none
  }

  /// `image rm`: the name leaves the index; then the blobs no image reaches any more; then each
  /// of its layers no other image names, and no box runs on (that one stays, going by its
  /// digest, until a later prune or layer rm), as docker removes an untagged image's layers.
  private func removeImage(_ image: ImageName, _ step: Step) throws(KernelError) {
    var removed: [String] = []
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.renameIndex(.forgets)):
        guard let found = store.images.removeValue(forKey: image.full) else {
          throw KernelError(step: step, call: entry, errno: .ENOENT, detail: "no image named \(image)")
        }
        removed = found.layers
      case .layer(.unlinkImageBlobs):
        store.blobs.subtract(store.imageBlobs(removed).subtracting(store.referencedBlobs))
      case .layer(.removeImageLayer(let name)):
        guard !store.namedLayers.contains(name) else { return }
        let running = boxLowerIDs
        store.layers.removeAll { $0.name == name && !running.contains($0.diffID) }
      default: throw unmodeled(entry, step)
      }
    }
  }

  /// `layer rm`: a layer no box uses goes.
  private func removeLayer(_ name: String, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    guard let layer = store.layer(name) else {
      throw KernelError(step: step, call: entry, errno: .ENOENT, detail: "no layer named \(name)")
    }
    if let box = boxes.first(where: {
      $0.process.root.id.flatMap { filesystems[$0] }?.lowerIDs.contains(layer.diffID) == true
    }) {
      throw KernelError(step: step, call: entry, errno: .EBUSY, detail: ImageTransfer.layerBusy(box: box.name))
    }
    store.layers.removeAll { $0.diffID == layer.diffID }
  }

  /// Stores `contents` as a layer and names `image` after it (with `below` under it), as the
  /// real store's last two entries do: the layer's blobs first, then the index names the image.
  /// A name that is taken (an image or a layer goes by it) fails the naming, and the store takes
  /// back what the blobs' entry stored, as the real one does (`before` is the store before it).
  private func nameImage(
    _ image: ImageName, _ added: (name: String, existed: Bool, diffID: String), below: [String],
    before: SimImageStore, _ step: Step, _ entry: SystemCall
  ) throws(KernelError) {
    guard before.images[image.full] == nil, before.layer(image.description) == nil else {
      store = before
      throw KernelError(step: step, call: entry, errno: .EEXIST, detail: "an image or layer named \(image) exists")
    }
    store.setImage(image, [added.name] + below)
  }

  /// `image import`: a host directory becomes a one-layer image (read by the reader the
  /// simulator was given; it reads no host files itself).
  private func importImage(_ image: ImageName, _ directory: String, _ step: Step) throws(KernelError) -> StepResult {
    var contents = LayerContents()
    var before = store
    var added = (name: "", existed: false, diffID: "")
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.walkDirectory):
        guard let read = hostDirectoryReader else {
          throw KernelError(
            step: step, call: entry, errno: .ENOENT, detail: "the simulator was given no host directories")
        }
        switch read(directory) {
        case .success(let c): contents = c
        case .failure(let e): throw KernelError(step: step, call: entry, errno: e.errno, detail: e.detail)
        }
      case .layer(.tarAndStoreBlobs):
        before = store
        added = store.add(name: image.description, contents: contents)
      case .layer(.renameIndex): try nameImage(image, added, below: [], before: before, step, entry)
      default: throw unmodeled(entry, step)
      }
    }
    return .none
  }

  /// `image push`: whether the registry has each blob (the image's layers, bottom first, and its
  /// config), then the missing ones, then the manifest, each said as the real push says it.
  private func push(_ image: ImageName, _ ref: RegistryRef, _ step: Step) throws(KernelError) -> StepResult {
    var registry = store.registries[registryKey(ref)] ?? SimRegistry()
    var bottomFirst: [(name: String, diffID: String, contents: LayerContents, existed: Bool)] = []
    var configExisted = false
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.registryHead), .layer(.statBlobs):
        guard let source = store.images[image.full] else {
          throw KernelError(step: step, call: entry, errno: .ENOENT, detail: "no image named \(image)")
        }
        try refuseServer(ref, step, entry)
        for name in source.layers.reversed() {
          guard let layer = store.layer(name) else { continue }
          bottomFirst.append((name, layer.diffID, layer.contents, registry.blobs[layer.diffID] != nil))
        }
        configExisted = registry.configs.contains(bottomFirst.map(\.diffID))
      case .layer(.registryUpload), .layer(.copyBlobs):
        for layer in bottomFirst { registry.blobs[layer.diffID] = layer.contents }
        registry.configs.insert(bottomFirst.map(\.diffID))
      case .layer(.registryPutManifest), .layer(.renameDirectoryIndex):
        registry.tags[ref.repository + ":" + ref.tag] = bottomFirst.map { ($0.name, $0.diffID) }
        store.registries[registryKey(ref)] = registry
      default: throw unmodeled(entry, step)
      }
    }
    return StepResult(
      output: bottomFirst.map { ImageTransfer.pushedLayer($0.name, existed: $0.existed) }
        + [ImageTransfer.pushedConfig(existed: configExisted), ImageTransfer.pushedManifest(ref)])
  }

  /// `image pull`: the manifest, then each layer the store does not have yet, then (all of them
  /// checked) the layers stored and the image named.
  private func pull(_ ref: RegistryRef, _ step: Step) throws(KernelError) -> StepResult {
    var layers: [(name: String, diffID: String)] = []
    var fetched: [(name: String, contents: LayerContents)] = []
    var lines: [String] = []
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.registryGetManifest), .layer(.openDirectoryIndex):
        try refuseServer(ref, step, entry)
        guard let found = store.registries[registryKey(ref)]?.tags[ref.repository + ":" + ref.tag] else {
          throw KernelError(step: step, call: entry, errno: .ENOENT, detail: ImageTransfer.notInRegistry(ref))
        }
        layers = found
        lines.append(ImageTransfer.pulledManifest(ref, layers: found.count))
      case .layer(.registryGetBlobs), .layer(.copyFromDirectory):
        let registry = store.registries[registryKey(ref)]
        fetched = layers.compactMap { layer in registry?.blobs[layer.diffID].map { (layer.name, $0) } }
      case .layer(.verifyAndUnpack):
        var names: [String] = []
        for (name, contents) in fetched {
          let added = store.add(name: name, contents: contents)
          lines.append(ImageTransfer.pulledLayer(added.name, existed: added.existed))
          names.insert(added.name, at: 0)
        }
        store.setImage(ref.localName, names)
      default: throw unmodeled(entry, step)
      }
    }
    return StepResult(output: lines)
  }

  /// `image prune`, entry by entry: the lock (nothing to model: the simulator has one session),
  /// what the images need, the rest removed, and no leftovers (the simulator is never killed half
  /// way, so it has none of a killed writer's).
  private func prune(_ step: Step) throws(KernelError) -> StepResult {
    var unused: [SimImageStore.Layer] = []
    var referenced: Set<SimImageStore.Blob> = []
    var blobs = 0
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.lockStore), .layer(.deleteLeftovers): break
      case .layer(.readIndex):
        // What it can have that no image needs is a layer no image names any more (its image was
        // tagged over or pulled again) and the blobs of images no name reaches. As the real
        // store: the tar of a layer a box runs on stays with the layer (a commit on that box
        // names it in its new manifest).
        let used = store.namedLayers
        let running = boxLowerIDs
        unused = store.layers.filter { !used.contains($0.name) && !running.contains($0.diffID) }
        referenced = store.referencedBlobs.union(running.map { .layer($0) })
      case .layer(.deleteUnneeded):
        store.layers.removeAll { l in unused.contains { $0.diffID == l.diffID } }
        blobs = store.blobs.subtracting(referenced).count
        store.blobs.formIntersection(referenced)
      default: throw unmodeled(entry, step)
      }
    }
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
    guard boxes[i].process.ns[.mnt] != nil else { throw missing(step, boxes[i].name) }
    try make(step) { entry throws(KernelError) in
      switch entry {
      // The directory in the session's scratch space: nothing the model shows until it is the root.
      case .mkdir: break
      case .layer(.copyLayers):
        for name in layers where store.layer(name) == nil {
          throw KernelError(step: step, call: entry, errno: .ENOENT, detail: "no layer named \(name)")
        }
        let merged = Overlay.merged(layers.compactMap { store.layer($0)?.contents })
        let copy = LayerContents(merged.map(\.entry).filter { $0.kind != .whiteout })
        let id = nextRootfs
        nextRootfs += 1
        filesystems[id] = SimFilesystem(lowers: [], upper: copy)
        boxes[i].process.root = .prepared(image: RootFacts.directoryText(names), id: id)
      default: throw unmodeled(entry, step)
      }
    }
  }

  /// A registry server is a program on the host's loopback, outside the lab: whether one
  /// listens on the port is a fact of the host, which `registryListens` reports (the CLI gives
  /// the simulator a probe of the real port; without one, none listens). With none, connect(2)
  /// to 127.0.0.1:PORT is ECONNREFUSED at the step's first request, as on real. With one, the
  /// simulator keeps that registry's content in memory.
  func refuseServer(_ ref: RegistryRef, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    guard case .server(_, let port) = ref.location, registryListens?(port) != true else { return }
    throw KernelError(step: step, call: entry, errno: .ECONNREFUSED, detail: "connect(127.0.0.1:\(port))")
  }

  /// boxwalk connects to 127.0.0.1 whether a reference says localhost or 127.0.0.1, so both
  /// name one registry.
  func registryKey(_ ref: RegistryRef) -> String {
    if case .server(_, let port) = ref.location { return "127.0.0.1:\(port)" }
    return ref.registry
  }

  /// `write PATH TEXT`, entry by entry: make the missing parents, then open with O_TRUNC, then
  /// write. The path is walked mount by mount (SimulatedKernel+MountedFiles.swift): what a mount
  /// covers is out of reach, and a file under a tmpfs lands in the tmpfs. In the overlay, the file
  /// and every directory above it are copied up first: overlayfs changes a directory only in the
  /// upper layer.
  func writeFile(_ i: Int, _ path: String, _ text: String, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let id = p.root.id, filesystems[id] != nil else {
      throw KernelError(step: step, call: step.firstCall, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.makeParents): try makeParents(of: path, p, step, entry)
      case .openBeneath: try openToWrite(path, p, step, entry)
      case .layer(.writeData(let data)): writeData(path, Array(data.utf8), p)
      default: throw unmodeled(entry, step)
      }
    }
  }

  /// mkdirat(2) of each missing parent, in whatever file system the walk is in, like mkdir -p.
  /// The walk stops at a name it cannot pass (a file, a link): the open fails there.
  private func makeParents(of path: String, _ p: SimProcess, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    var current = ""
    for part in Overlay.parent(of: path).split(separator: "/") {
      current += "/" + part
      guard let (tree, inner) = locate(current, p) else { continue }
      switch self.entry(tree, inner) {
      case .directory?: continue
      case .some: return
      case nil:
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
        case .proc, .sysfs: throw KernelError(step: step, call: entry, errno: .EROFS)
        case .mqueue, .node: throw KernelError(step: step, call: entry, errno: .EPERM)
        }
      }
    }
  }

  /// openat2(2) of the file beneath the box's root, following no link: every parent must be a
  /// directory, and the file a regular one (or missing, to be made) on a file system that takes it.
  private func openToWrite(_ path: String, _ p: SimProcess, _ step: Step, _ entry: SystemCall) throws(KernelError) {
    if let errno = parentFailure(path, p) { throw KernelError(step: step, call: entry, errno: errno) }
    guard let (tree, inner) = locate(path, p) else { return }
    switch self.entry(tree, inner) {
    case .directory?: throw KernelError(step: step, call: entry, errno: .EISDIR)
    case .symlink?: throw KernelError(step: step, call: entry, errno: .ELOOP)
    case .special(let kind)?:
      throw KernelError(
        step: step, call: entry, errno: .EINVAL, detail: "it is a \(kind): boxwalk reads and writes regular files only")
    default: break
    }
    switch tree {
    case .layers, .tmpfs: break
    case .proc, .sysfs: throw KernelError(step: step, call: entry, errno: .EROFS)
    case .mqueue, .node: throw KernelError(step: step, call: entry, errno: .EOPNOTSUPP, detail: Self.madeUp(tree))
    }
  }

  /// write(2) of the data to the file the open reached (made, 0644, when it was missing).
  private func writeData(_ path: String, _ bytes: [UInt8], _ p: SimProcess) {
    guard let (tree, inner) = locate(path, p) else { return }
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
    case .proc, .sysfs, .mqueue, .node: break
    }
  }

  /// `rm PATH`, entry by entry: open the parent, then remove the name (a directory with what is in
  /// it); in the overlay, if a lower layer still shows it, leave a whiteout. A mount point, or a directory with a mount below it, is
  /// busy: the real backend does not cross into another mounted file system (EBUSY).
  func removeFile(_ i: Int, _ path: String, _ step: Step) throws(KernelError) {
    let p = boxes[i].process
    guard let id = p.root.id, filesystems[id] != nil else {
      throw KernelError(step: step, call: step.firstCall, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .openBeneath:
        // openat2(2) of the parent directory beneath the box's root, following no link.
        if let errno = parentFailure(path, p) { throw KernelError(step: step, call: entry, errno: errno) }
      case .layer(.unlink): try unlink(path, p, step, entry)
      default: throw unmodeled(entry, step)
      }
    }
  }

  /// unlinkat(2) of the last name (a directory: what is in it first); in the overlay, a whiteout
  /// where a lower layer still shows the name.
  private func unlink(_ path: String, _ p: SimProcess, _ step: Step, _ unlink: SystemCall) throws(KernelError) {
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

  /// `commit NAME`, entry by entry: the upper layer, as it is, becomes a layer on top of the
  /// box's lowers (see nameImage for a name that is taken).
  func commit(_ i: Int, _ image: ImageName, _ step: Step) throws(KernelError) -> StepResult {
    var fs = SimFilesystem(lowers: [], upper: LayerContents())
    var before = store
    var added = (name: "", existed: false, diffID: "")
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.walkUpper):
        guard let id = boxes[i].process.root.id, let found = filesystems[id] else {
          throw KernelError(
            step: step, call: entry, errno: .EINVAL, detail: "the box's root filesystem is not an overlay")
        }
        fs = found
      case .layer(.tarUpper): break  // the simulator's layers are their contents: the tar is made when stored
      case .layer(.storeBlobs):
        before = store
        added = store.add(name: image.description, contents: fs.upper)
      case .layer(.renameIndex):
        // The lowers as they are stored now: one no image names may have been renamed meanwhile.
        let below = fs.lowerIDs.compactMap { store.layer(diffID: $0)?.name }
        try nameImage(image, added, below: below, before: before, step, entry)
      default: throw unmodeled(entry, step)
      }
    }
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

import CShim
import Glibc
import HelperWire
import Kernel
import OCI

/// What the Linux backend knows of a box whose root filesystem is an overlay.
struct OverlayState {
  /// Lower layers, top first.
  var lowers: [ImageStore.Layer]
  /// The upper, work and mount directories, in the session's scratch space (tmpfs under /run:
  /// an overlay whose upper layer is on tmpfs unmounts about 3x faster, bench/analysis.md).
  var upper: String
  var work: String
  var merged: String
}

/// Layers and images on the real kernel: overlay mounts (by the helper, in the box's mount
/// namespace), the file commands (by this process, through /proc/HELPER/root, see BoxFiles),
/// commit, import, push and pull (the image store, see ImageStore).
extension LinuxKernel {
  func performLayerStep(_ s: LayerStep, _ step: Step) throws(KernelError) -> StepResult {
    var result = try performStoreStep(s, step)
    // A repair the store made while reading (a corrupt index moved aside) is said once.
    result.output += images.takeNotes().map { "note: " + $0 }
    return result
  }

  private func performStoreStep(_ s: LayerStep, _ step: Step) throws(KernelError) -> StepResult {
    // A throwaway store lives in the session directory: after a teardown, make a new one.
    if ephemeralImages && session == nil { try reopenSession(step) }
    // The busybox image is made on first use, whichever step that is.
    try store(step, step.firstCall) { () throws(SystemCallError) in try images.ensureBusybox() }
    switch s {
    case .overlay(let box, let names, let layers, false):
      try mountOverlay(box, names: names, layers: layers, step: step)
    case .overlay(let box, let names, let layers, true): try copyRoot(box, names: names, layers: layers, step: step)
    case .writeFile(let box, let path, let text):
      try files(box, step) { files throws(BoxFiles.Failure) in try files.write(path, Array((text + "\n").utf8)) }
    case .removeFile(let box, let path):
      try files(box, step) { files throws(BoxFiles.Failure) in try files.remove(path) }
    case .commit(let box, let image): return try commit(box, image, step: step)
    case .imageImport(let image, let directory):
      let contents = try store(step, step.entry(.layer)) { () throws(SystemCallError) in
        try LayerDirectory.read(
          directory, .init(contents: true, overlayMarks: false, maxBytes: HostDirectory.maxImportBytes))
      }
      do throws(SystemCallError) {
        try images.add(image, new: [(image.description, contents, false)], below: [], unique: true)
      } catch {
        throw error.call == ImageStore.nameTaken
          ? KernelError(
            step: step, call: step.entry(where: Self.isIndexRename), errno: .EEXIST,
            detail: "an image or layer named \(image) exists")
          : KernelError(
            step: step, call: step.entry { $0 == .layer(.tarAndStoreBlobs) }, errno: Errno(rawValue: error.errno),
            detail: error.call)
      }
    case .imageTag(let source, let target):
      try store(step, step.entry(.layer)) { () throws(SystemCallError) in try images.retag(source, as: target) }
    case .imagePush(let image, let ref): return try push(image, ref, step: step)
    case .imagePull(let ref): return try pull(ref, step: step)
    case .imageRemove(let image, _):
      try store(step, step.entry(.layer)) { () throws(SystemCallError) in try images.remove(image) }
    case .layerRemove(let name):
      // A box of this session that runs on it is named; the store's own check (a held
      // directory, layerHeld) finds those of other sessions.
      let diffID = try store(step, step.entry(.layer)) { () throws(SystemCallError) in try images.diffID(ofLayer: name)
      }
      if let diffID,
        let box = boxState.keys.sorted().first(where: {
          boxState[$0]?.overlay?.lowers.contains { $0.diffID == diffID } == true
        })
      {
        throw KernelError(
          step: step, call: step.entry(.layer), errno: .EBUSY, detail: ImageTransfer.layerBusy(box: box))
      }
      try store(step, step.entry(.layer)) { () throws(SystemCallError) in try images.removeLayer(name) }
    case .imagePrune:
      let running = Set(boxState.values.flatMap { $0.overlay?.lowers.map(\.blob.digest) ?? [] })
      let removed = try store(step, step.entry { $0 == .layer(.readIndex) }) { () throws(SystemCallError) in
        try images.prune(keeping: running)
      }
      // Layers and the count of blobs as the simulator prints them (it knows which blobs the
      // store holds, not their digests); then what only a real store can have: the leftovers of
      // killed writers.
      return StepResult(
        output: removed.layers.sorted().map(ImageTransfer.prunedLayer) + ImageTransfer.prunedBlobs(removed.blobs.count)
          + removed.leftovers.map { "removed \($0), left by a killed pull or commit" })
    }
    return .none
  }

  // MARK: Root filesystems

  func scratchDirectory(_ box: String, _ suffix: String, step: Step) throws(KernelError) -> String {
    guard let session else { throw noSuchBox(box, step: step) }
    let boxes = session.path + "/boxes"
    let scratch = boxes + "/" + box + suffix
    do throws(SystemCallError) {
      if mkdir(boxes, 0o700) != 0 && errno != EEXIST { throw SystemCallError(call: "mkdir", errno: errno) }
      // In the ledger before it exists: a crash from here on leaves nothing cleanup misses.
      try session.record(.scratch(box: box, path: scratch))
      guard mkdir(scratch, 0o755) == 0 else { throw SystemCallError(call: "mkdir", errno: errno) }
    } catch {
      session.forget { $0 == .scratch(box: box, path: scratch) }
      throw KernelError(step: step, call: step.entry(.mkdir), errno: Errno(rawValue: error.errno), detail: error.call)
    }
    return scratch
  }

  func dropScratch(_ box: String, _ path: String) {
    FileTree.remove(path)
    session?.forget { $0 == .scratch(box: box, path: path) }
  }

  private func mountOverlay(_ box: String, names: [String], layers: [String], step: Step) throws(KernelError) {
    // The first "lowerdir+" fsconfig(2): where a layer that cannot be had fails the step.
    let lowerdir = step.entry(.fsconfig)
    let catalog = try store(step, lowerdir) { () throws(SystemCallError) in try images.catalog().layers }
    var lowers: [ImageStore.Layer] = []
    for name in layers {
      guard let layer = catalog.first(where: { $0.name == name }) else {
        throw KernelError(step: step, call: lowerdir, errno: .ENOENT, detail: "no layer named \(name)")
      }
      lowers.append(layer)
    }
    let paths = try store(step, lowerdir) { () throws(SystemCallError) in
      try lowers.map { l throws(SystemCallError) in try images.directory(l) }
    }
    // Held from here until the box is gone: another session's image rm or prune leaves them.
    let holds = try store(step, lowerdir) { () throws(SystemCallError) in try images.hold(paths) }
    let scratch: String
    do {
      scratch = try scratchDirectory(box, "-overlay", step: step)
    } catch {
      ImageStore.release(holds)
      throw error
    }
    let state = OverlayState(
      lowers: lowers, upper: scratch + "/upper", work: scratch + "/work", merged: scratch + "/rootfs")
    // With fsconfig(2) no ',' or ':' needs escaping, and "lowerdir+" takes its path as it is;
    // but overlayfs still unescapes a backslash in "upperdir" and "workdir" (ovl_unescape in
    // fs/overlayfs/params.c; checked on Linux 6.18), so there it is doubled.
    func escaped(_ path: String) -> [UInt8] { Array(path.utf8).flatMap { $0 == UInt8(ascii: "\\") ? [$0, $0] : [$0] } }
    let open = MountCall.fsopenOverlay(
      directories: paths.map { Array($0.utf8) } + [escaped(state.upper), escaped(state.work)],
      target: Array(state.merged.utf8))
    do {
      try makeOverlay(box, state, open, layers: layers.count, step: step)
    } catch {
      dropScratch(box, scratch)
      ImageStore.release(holds)
      throw error
    }
    boxState[box]?.layerHolds += holds
    boxState[box]?.overlay = state
    boxState[box]?.root = .prepared(image: RootFacts.overlayText(names))
    mountLog.append(MountRecord(namespace: try mountNamespace(box, step: step), inRootfs: true, request: .overlay))
  }

  /// The overlay's plan, entry by entry: the upper and work directories (and the mount point
  /// with the upper) made here, in the session's scratch space; the rest by the box's helper, in
  /// the box's mount namespace (boxwalk-helper's MountCalls.swift).
  private func makeOverlay(
    _ box: String, _ state: OverlayState, _ open: MountCall, layers: Int, step: Step
  ) throws(KernelError) {
    let helper = try helper(of: box, step: step)
    // Every layer path goes to the helper in one message of at most 4 KiB (HelperProtocol.swift).
    guard
      HelperRequest.calls([.mount(open)] + Array(repeating: .mount(.moveOverlayRoot), count: layers + 5)).encoded()
        != nil
    else {
      throw KernelError(
        step: step, call: step.entry(.fsconfig), errno: .E2BIG,
        detail:
          "\(layers) layer paths do not fit in one 4 KiB helper message; use fewer layers or a shorter BOXWALK_HOME")
    }
    var lower = 0
    func directory(_ path: String) -> Making {
      .here { () throws(EntryFailure) in
        guard mkdir(path, 0o755) == 0 else { throw EntryFailure(Errno(rawValue: errno)) }
      }
    }
    try make(step) { entry throws(KernelError) in
      let call: MountCall
      switch entry {
      case .mkdir(let path, _) where path.hasSuffix(" upper>"):
        return .here { () throws(EntryFailure) in
          for dir in [state.upper, state.merged] where mkdir(dir, 0o755) != 0 {
            throw EntryFailure(Errno(rawValue: errno))
          }
        }
      case .mkdir: return directory(state.work)
      case .fsopen: call = open
      case .fsconfig(.setString("lowerdir+", _)):
        call = .overlayDirectory(key: "lowerdir+", index: lower)
        lower += 1
      case .fsconfig(.setString("upperdir", _)): call = .overlayDirectory(key: "upperdir", index: layers)
      case .fsconfig(.setString("workdir", _)): call = .overlayDirectory(key: "workdir", index: layers + 1)
      case .fsconfig(.create): call = .fsconfigCreate
      case .fsmount(let attributes):
        guard let bits = Self.mountAttributes(attributes) else { throw unplanned(entry, step) }
        call = .fsmount(attributes: bits)
      case .moveOverlayRoot: call = .moveOverlayRoot
      default: throw unplanned(entry, step)
      }
      return .helper(.mount(call), helper)
    }
  }

  /// `rootfs IMAGE --dir`: the layers' merged files, copied by this process into a new plain
  /// directory in the box's scratch space, with no mount. The file commands and `fs` facts see
  /// it as an upper layer with no lower ones (what the box changes, it changes in place), and
  /// pivot_root(2) refuses it as a new root, not being a mount point, until `mount bind / /`.
  private func copyRoot(_ box: String, names: [String], layers: [String], step: Step) throws(KernelError) {
    let copying = step.entry(.layer)
    let catalog = try store(step, copying) { () throws(SystemCallError) in try images.catalog().layers }
    var contents: [LayerContents] = []
    for name in layers {
      guard let layer = catalog.first(where: { $0.name == name }) else {
        throw KernelError(step: step, call: copying, errno: .ENOENT, detail: "no layer named \(name)")
      }
      let path = try store(step, copying) { () throws(SystemCallError) in try images.directory(layer) }
      contents.append(
        try store(step, copying) { () throws(SystemCallError) in
          try LayerDirectory.read(path, .init(contents: true, overlayMarks: true))
        })
    }
    let copy = LayerContents(Overlay.merged(contents).map(\.entry).filter { $0.kind != .whiteout })
    let scratch = try scratchDirectory(box, "-dir", step: step)
    let root = scratch + "/rootfs"
    do {
      try LayerDirectory.write(copy, to: root)
    } catch {
      dropScratch(box, scratch)
      throw KernelError(step: step, call: copying, errno: Errno(rawValue: error.errno), detail: error.call)
    }
    boxState[box]?.overlay = OverlayState(lowers: [], upper: root, work: root, merged: root)
    boxState[box]?.root = .prepared(image: RootFacts.directoryText(names))
  }

  // MARK: Files

  /// The box's root directory as this process reaches it.
  func boxRoot(_ box: String) -> String? {
    guard let helper = helper(named: box), let state = boxState[box], state.root != .host else {
      return nil
    }
    let proc = "\(procfs.root)/\(helper.pid)/root"
    if case .prepared = state.root, let rootfs = state.rootfsPath {
      return anchoredPath(helper, rootfs, byName: proc + rootfs)
    }
    return proc
  }

  /// `path` (boxwalk's own directory, a host path) as this process reaches it in the helper's
  /// mount namespace: `byName` (through /proc/HELPER/root), unless a mount the box made hides it
  /// there, when the helper's anchor of the session's directory leads to it instead
  /// (/proc/HELPER/fd/N, BoxwalkHelper/Anchors.swift).
  func anchoredPath(_ helper: HelperProcess, _ path: String, byName: String) -> String {
    guard let session, helper.anchors[0] >= 0, path.hasPrefix(session.path + "/") else { return byName }
    let anchored = "\(procfs.root)/\(helper.pid)/fd/\(helper.anchors[0])" + path.dropFirst(session.path.count)
    var named = stat()
    var via = stat()
    guard stat(anchored, &via) == 0 else { return byName }
    if stat(byName, &named) == 0 && named.st_dev == via.st_dev && named.st_ino == via.st_ino { return byName }
    return anchored
  }

  private func files(_ box: String, _ step: Step, _ body: (BoxFiles) throws(BoxFiles.Failure) -> Void)
    throws(KernelError)
  {
    guard let root = boxRoot(box) else {
      throw KernelError(step: step, call: step.firstCall, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    do {
      try body(boxFiles(root))
    } catch {
      throw KernelError(
        step: step, call: Self.entry(step, error.stage), errno: Errno(rawValue: error.errno), detail: error.detail)
    }
  }

  func boxFiles(_ root: String) -> BoxFiles { BoxFiles(root: root, procSelf: procfs.root + "/self") }

  public func readFile(box: String, path: String) throws(KernelError) -> [UInt8] {
    let call = FileCalls.read(box, path)
    guard let root = boxRoot(box) else {
      throw KernelError(call: call, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    do {
      return try boxFiles(root).read(path)
    } catch {
      throw KernelError(call: call, errno: Errno(rawValue: error.errno), detail: error.detail)
    }
  }

  public func listDirectory(box: String, path: String) throws(KernelError) -> [DirectoryEntry] {
    let call = FileCalls.list(box, path)
    guard let root = boxRoot(box) else {
      throw KernelError(call: call, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    do {
      return try boxFiles(root).list(path)
    } catch {
      throw KernelError(call: call, errno: Errno(rawValue: error.errno), detail: error.detail)
    }
  }

  /// `which`: overlayfs's own lookup, run on what the upper and lower directories hold.
  public func origin(box: String, path: String) throws(KernelError) -> (layer: String, kind: LayerEntryKind) {
    let call = FileCalls.origin(box, path)
    guard let overlay = boxState[box]?.overlay else {
      throw KernelError(call: call, errno: .ENOENT, detail: "the box has no overlay")
    }
    let (upper, lowers): (LayerContents, [LayerContents])
    do {
      upper = try LayerDirectory.read(overlay.upper, .init(contents: false, overlayMarks: true))
      lowers = try overlay.lowers.map { l throws(SystemCallError) in try images.listing(l) }
    } catch {
      throw KernelError(call: call, errno: Errno(rawValue: error.errno), detail: error.call)
    }
    guard let found = Overlay.lookup(path, in: [upper] + lowers) else { throw KernelError(call: call, errno: .ENOENT) }
    let kind: LayerEntryKind = found.entry.kind.isDirectory ? .directory(opaque: false) : found.entry.kind
    return (found.layer == 0 ? "upper" : overlay.lowers[found.layer - 1].name, kind)
  }

  // MARK: Images

  private func commit(_ box: String, _ image: ImageName, step: Step) throws(KernelError) -> StepResult {
    guard let overlay = boxState[box]?.overlay else {
      throw KernelError(
        step: step, call: step.entry(.layer), errno: .EINVAL, detail: "the box's root filesystem is not an overlay")
    }
    let contents = try store(step, step.entry(.layer)) { () throws(SystemCallError) in
      try LayerDirectory.read(overlay.upper, .init(contents: true, overlayMarks: true))
    }
    let rename = step.entry(where: Self.isIndexRename)
    let catalog = try store(step, rename) { () throws(SystemCallError) in try images.catalog() }
    if catalog.images.contains(where: { $0.name == image })
      || catalog.layers.contains(where: { $0.name == image.description })
    {
      throw KernelError(
        step: step, call: rename, errno: .EEXIST, detail: "an image or layer named \(image) exists")
    }
    // Checked again under the store's lock: another session may commit the same name meanwhile.
    let stack: [ImageStore.Layer]
    do throws(SystemCallError) {
      stack = try images.add(image, new: [(image.description, contents, false)], below: overlay.lowers, unique: true)
    } catch {
      throw error.call == ImageStore.nameTaken
        ? KernelError(
          step: step, call: rename, errno: .EEXIST, detail: "an image or layer named \(image) exists")
        : KernelError(
          step: step, call: step.entry { $0 == .layer(.storeBlobs) }, errno: Errno(rawValue: error.errno),
          detail: error.call)
    }
    let top = stack[0]
    return StepResult(
      output: ImageTransfer.committed(top.name, diffID: top.diffID, tarNames: LayerTar.entryNames(contents)))
  }

  func registry(_ ref: RegistryRef) -> any Registry {
    switch ref.location {
    case .directory(let dir):
      return DirectoryRegistry(
        layout: OCILayout(root: images.home + "/registries/" + dir), repository: ref.repository,
        notFound: ImageTransfer.notInRegistry(ref))
    case .server(let host, let port):
      // One deadline for every request of this push or pull, started now.
      return ServerRegistry(
        client: HTTPClient(host: host, port: port, deadline: NetDeadline(seconds: registryTimeout)),
        repository: ref.repository, notFound: ImageTransfer.notInRegistry(ref))
    }
  }

  private func push(_ image: ImageName, _ ref: RegistryRef, step: Step) throws(KernelError) -> StepResult {
    let (found, manifestDigest) = try store(step, step.entry(.layer)) {
      () throws(SystemCallError) -> (ImageStore.Image?, String?) in
      (
        try images.catalog().images.first { $0.name == image },
        try images.layout.index().manifest(named: image.full)?.digest
      )
    }
    guard let found, let manifestDigest else {
      throw KernelError(step: step, call: step.entry(.layer), errno: .ENOENT, detail: "no image named \(image)")
    }
    let target = registry(ref)
    var lines: [String] = []
    // A Ctrl-C pressed before this command started is not meant for it.
    _ = bw_interrupt_take()
    // Which of the step's calls is under way: the existence checks (HEAD), the uploads, the
    // manifest. A failure is reported against the call that failed: a registry that refuses the
    // connection fails the first HEAD, not an upload.
    var stage = TransferStage.check
    do throws(RegistryError) {
      for layer in found.layers.reversed() {
        stage = .check
        let existed = try target.hasBlob(layer.blob.digest)
        stage = .upload
        if !existed {
          try target.putBlob(
            layer.blob.digest, try local { () throws(SystemCallError) in try images.layout.readBlob(layer.blob.digest) }
          )
        }
        lines.append(ImageTransfer.pushedLayer(layer.name, existed: existed))
      }
      let manifestBytes = try local { () throws(SystemCallError) in try images.layout.readBlob(manifestDigest) }
      let (manifest, _) = try local { () throws(SystemCallError) in try images.manifestAndConfig(manifestDigest) }
      stage = .check
      let existed = try target.hasBlob(manifest.config.digest)
      stage = .upload
      if !existed {
        try target.putBlob(
          manifest.config.digest,
          try local { () throws(SystemCallError) in try images.layout.readBlob(manifest.config.digest) })
      }
      lines.append(ImageTransfer.pushedConfig(existed: existed))
      stage = .putManifest
      try target.putManifest(ref.tag, manifestBytes)
      lines.append(ImageTransfer.pushedManifest(ref))
    } catch {
      throw KernelError(
        step: step, call: Self.entry(step, stage), errno: Errno(rawValue: error.errno), detail: error.detail)
    }
    return StepResult(output: lines)
  }

  /// `image pull`: everything is fetched and checked first, and only then written to the store,
  /// so a registry that fails, stalls past the deadline or is interrupted by Ctrl-C halfway
  /// leaves the store exactly as it was.
  private func pull(_ ref: RegistryRef, step: Step) throws(KernelError) -> StepResult {
    let source = registry(ref)
    var lines: [String] = []
    // A Ctrl-C pressed before this command started is not meant for it.
    _ = bw_interrupt_take()
    var fetched: [PulledLayer] = []
    // Which of the step's calls a failure names: the manifest's GET, then the blobs' GETs (or,
    // from a directory registry, the open of its index, then the copies).
    var stage = TransferStage.getManifest
    do throws(RegistryError) {
      let (manifest, config) = try pullManifest(ref, from: source, stage: &stage)
      lines.append(ImageTransfer.pulledManifest(ref, layers: manifest.layers.count))
      fetched = try pullLayers(manifest, config, of: ref, from: source, lines: &lines)
    } catch {
      // Nothing was written yet: the store is as it was, as the error's state line says.
      if error.detail == ImageTransfer.notInRegistry(ref) { stage = .getManifest }
      throw KernelError(
        step: step, call: Self.entry(step, stage), errno: Errno(rawValue: error.errno), detail: error.detail)
    }
    try storePulled(fetched, as: ref, step: step)
    return StepResult(output: lines)
  }

  /// A layer of a pull: the store's own when it had it (no bytes), else the fetched gzip.
  typealias PulledLayer = (layer: ImageStore.Layer, compressed: [UInt8]?)

  /// The manifest's GET, then the config's (`stage` becomes `.getBlobs` for it): both must be
  /// documents boxwalk reads, with one diff_id per layer and no more layers than a box stacks.
  private func pullManifest(
    _ ref: RegistryRef, from source: any Registry, stage: inout TransferStage
  ) throws(RegistryError) -> (Manifest, ImageConfig) {
    let manifestBytes = try source.manifest(ref.tag)
    // A manifest boxwalk cannot read, or one listing more layers than a box stacks, is the
    // answer to the manifest's GET: that request is the one to blame (the GET of the manifest).
    guard let json = try? JSONValue.parse(manifestBytes), let manifest = try? Manifest(json: json) else {
      throw RegistryError(errno: EBADMSG, detail: "the manifest of \(ref) is not an OCI image manifest boxwalk reads")
    }
    // A box stacks at most Overlay.maxLayers layers (overlayfs's lower directories, within one
    // page of mount options): an image with more could never be used, so it is not fetched.
    guard manifest.layers.count <= Overlay.maxLayers else {
      throw RegistryError(
        errno: E2BIG,
        detail:
          "the manifest of \(ref) lists \(manifest.layers.count) layers; a box stacks at most \(Overlay.maxLayers)")
    }
    // From here on the blobs' GETs: the config first.
    stage = .getBlobs
    let configBytes = try source.blob(manifest.config.digest, limit: JSONValue.maxDocument)
    guard let configJSON = try? JSONValue.parse(configBytes), let config = try? ImageConfig(json: configJSON),
      config.diffIDs.count == manifest.layers.count
    else { throw RegistryError(errno: EBADMSG, detail: "the config of \(ref) does not list one diff_id per layer") }
    return (manifest, config)
  }

  /// The blobs' GETs of the layers the store does not have, held in memory until all are
  /// checked, within the pull's byte limit; one line each for `lines`.
  private func pullLayers(
    _ manifest: Manifest, _ config: ImageConfig, of ref: RegistryRef, from source: any Registry,
    lines: inout [String]
  ) throws(RegistryError) -> [PulledLayer] {
    var fetched: [PulledLayer] = []
    // What this pull may still fetch: the blobs are held in memory until all are checked.
    var budget = pullByteLimit
    let tooBig = "the layers of \(ref) add up to more than \(pullByteLimit >> 20) MiB, the most one pull fetches"
    var known = try local { () throws(SystemCallError) in try images.catalog().layers }
    for (blob, diffID) in zip(manifest.layers, config.diffIDs) {
      if let have = known.first(where: { $0.diffID == diffID }) {
        fetched.append((have, nil))
        lines.append(ImageTransfer.pulledLayer(have.name, existed: true))
        continue
      }
      // The size the manifest declares is checked first, and what arrives is bounded by what
      // is left either way, since a registry may declare one size and send another.
      guard blob.size >= 0, blob.size <= budget else { throw RegistryError(errno: EFBIG, detail: tooBig) }
      let compressed: [UInt8]
      do throws(RegistryError) {
        compressed = try source.blob(blob.digest, limit: min(OCILayout.maxBlob, budget))
      } catch let error where error.errno == EFBIG {
        throw RegistryError(errno: EFBIG, detail: tooBig)
      }
      budget -= compressed.count
      var name = blob.annotation(Annotation.layerName) ?? ImageTransfer.fallbackName(diffID)
      if Names.checkName(name, limit: 200) != nil && ImageName.parse(name).isFailure
        || known.contains(where: { $0.name == name })
      {
        name = ImageTransfer.fallbackName(diffID)
      }
      let layer = ImageStore.Layer(
        name: name, diffID: diffID,
        blob: Descriptor(mediaType: MediaType.layerGzip, digest: blob.digest, size: blob.size),
        hostSpecific: blob.annotation(ImageStore.hostSpecificKey) == "true")
      known.append(layer)
      fetched.append((layer, compressed))
      lines.append(ImageTransfer.pulledLayer(name, existed: false))
    }
    return fetched
  }

  /// Writes what a pull fetched (blobs, unpacked layers, then the name). If any of it fails,
  /// the blobs and layer directories this pull added that nothing names are taken back, so its
  /// "nothing was changed" is true.
  private func storePulled(_ fetched: [PulledLayer], as ref: RegistryRef, step: Step) throws(KernelError) {
    var written: [String] = []
    var unpacked: [String] = []
    do throws(RegistryError) {
      var stack: [ImageStore.Layer] = []
      for (layer, compressed) in fetched {
        if let compressed {
          try local { () throws(SystemCallError) in try images.prepareLayout() }
          let existed = images.layout.hasBlob(layer.blob.digest)
          let digest = try local { () throws(SystemCallError) in try images.layout.writeBlob(compressed) }
          if !existed { written.append(digest) }
          // Unpacking checks the diff_id and refuses links, devices and paths that leave the layer.
          let unpackedBefore = access(images.layerPath(layer.diffID), F_OK) == 0
          _ = try local { () throws(SystemCallError) in try images.directory(layer) }
          if !unpackedBefore { unpacked.append(layer.diffID) }
        }
        stack.insert(layer, at: 0)
      }
      try local { () throws(SystemCallError) in try images.tag(ref.localName, stack) }
    } catch {
      images.removeUnreferenced(blobs: written, layers: unpacked)
      throw KernelError(
        step: step, call: Self.entry(step, .getBlobs), errno: Errno(rawValue: error.errno), detail: error.detail)
    }
  }

  private func local<T>(_ body: () throws(SystemCallError) -> T) throws(RegistryError) -> T {
    do {
      return try body()
    } catch {
      throw RegistryError(errno: error.errno, detail: error.call)
    }
  }

  /// The entry that replaces the store's index.json (commit, import): where a name already
  /// taken fails the step.
  static func isIndexRename(_ call: SystemCall) -> Bool {
    if case .layer(.renameIndex) = call { return true }
    return false
  }

  /// Where a push or a pull is, so that a failure names the entry of the plan under way: a
  /// registry that refuses the connection fails the first HEAD, not an upload.
  enum TransferStage {
    /// Push: HEAD of each blob (a directory registry: stat(2)).
    case check
    /// Push: POST and PUT of each missing blob (a directory registry: the copies).
    case upload
    /// Push: PUT of the manifest (a directory registry: the rename of its index.json).
    case putManifest
    /// Pull: GET of the manifest (a directory registry: the open of its index.json).
    case getManifest
    /// Pull: GET of the config and the layers (a directory registry: the copies), and writing
    /// them to the store.
    case getBlobs
  }

  /// The entry of a push's or a pull's plan that `stage` is.
  static func entry(_ step: Step, _ stage: TransferStage) -> SystemCall {
    step.entry { call in
      guard case .layer(let work) = call else { return false }
      switch (stage, work) {
      case (.check, .registryHead), (.check, .statBlobs), (.upload, .registryUpload), (.upload, .copyBlobs),
        (.putManifest, .registryPutManifest), (.putManifest, .renameDirectoryIndex),
        (.getManifest, .registryGetManifest), (.getManifest, .openDirectoryIndex),
        (.getBlobs, .registryGetBlobs), (.getBlobs, .copyFromDirectory):
        return true
      default:
        return false
      }
    }
  }

  /// The entry of a file command's plan that `stage` is.
  static func entry(_ step: Step, _ stage: BoxFiles.Stage) -> SystemCall {
    switch stage {
    case .parents:
      // `write`: making the parents; `rm`: opening the parent.
      step.entry { call in
        if case .layer(.makeParents) = call { return true }
        return call.kind == .openBeneath
      }
    case .open: step.entry(.openBeneath)
    case .data:
      step.entry { call in
        if case .layer(.writeData) = call { return true }
        return false
      }
    case .unlink:
      step.entry { call in
        if case .layer(.unlink) = call { return true }
        return false
      }
    }
  }

  /// Runs an image store operation; a failure names the step's plan entry `call`.
  @discardableResult
  func store<T>(_ step: Step, _ call: SystemCall, _ body: () throws(SystemCallError) -> T) throws(KernelError) -> T {
    do {
      return try body()
    } catch {
      throw KernelError(
        step: step, call: call, errno: Errno(rawValue: error.errno), detail: error.call)
    }
  }

  // MARK: Facts and the store's place

  func storeFacts() throws(KernelError) -> (images: [ImageFacts], layers: [LayerFacts]) {
    do {
      return try images.facts()
    } catch {
      throw KernelError(
        call: error.call, errno: Errno(rawValue: error.errno), detail: "reading the image store \(images.home)")
    }
  }

  func fsFacts(_ state: BoxState) throws(KernelError) -> FSFacts? {
    guard let overlay = state.overlay else { return nil }
    do {
      let upper = try LayerDirectory.read(overlay.upper, .init(contents: false, overlayMarks: true))
      let lowers = try overlay.lowers.map { l throws(SystemCallError) in try images.listing(l) }
      return FSFacts(layerNames: overlay.lowers.map(\.name), upper: upper, lowers: lowers)
    } catch {
      throw KernelError(call: error.call, errno: Errno(rawValue: error.errno), detail: "reading the overlay's layers")
    }
  }

  /// With `ephemeralImages`, the store lives in the session directory (recorded in the ledger,
  /// so cleanup removes it with the session).
  func useEphemeralStore() throws(KernelError) {
    guard ephemeralImages, let session else { return }
    let home = session.path + "/" + SessionDirectory.imagesDirectory
    do {
      try session.record(.scratch(box: "images", path: home))
    } catch {
      throw KernelError(call: error.call, errno: Errno(rawValue: error.errno), detail: "cannot write the ledger")
    }
    images = ImageStore(home: home)
  }
}

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
    case .writeFile(let box, let path, let text): try writeFile(box, path, text, step: step)
    case .removeFile(let box, let path): try removeFile(box, path, step: step)
    case .commit(let box, let image): return try commit(box, image, step: step)
    case .imageImport(let image, let directory): try importImage(image, directory, step: step)
    case .imageTag(let source, let target):
      try make(step) { entry throws(KernelError) in
        guard case .layer(.renameIndex) = entry else { throw unplanned(entry, step) }
        return onStore { () throws(SystemCallError) in try self.images.retag(source, as: target) }
      }
    case .imagePush(let image, let ref): return try push(image, ref, step: step)
    case .imagePull(let ref): return try pull(ref, step: step)
    case .imageRemove(let image, _): try removeImage(image, step: step)
    case .layerRemove(let name): try removeLayer(name, step: step)
    case .imagePrune: return try prune(step)
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
    var scratch: String?
    do throws(KernelError) {
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .mkdir:
          return .here { () throws(EntryFailure) in
            do throws(KernelError) {
              scratch = try self.scratchDirectory(box, "-dir", step: step)
            } catch {
              throw EntryFailure(error.errno, detail: error.detail)
            }
          }
        case .layer(.copyLayers):
          return .here { () throws(EntryFailure) in
            guard let scratch else { return }
            try self.copyLayers(layers, to: scratch + "/rootfs")
          }
        default: throw unplanned(entry, step)
        }
      }
    } catch {
      if let scratch { dropScratch(box, scratch) }
      throw error
    }
    guard let root = scratch.map({ $0 + "/rootfs" }) else { return }
    boxState[box]?.overlay = OverlayState(lowers: [], upper: root, work: root, merged: root)
    boxState[box]?.root = .prepared(image: RootFacts.directoryText(names))
  }

  /// The layers' merged view, whiteouts applied, written file by file as a new directory `root`.
  private func copyLayers(_ layers: [String], to root: String) throws(EntryFailure) {
    let catalog = try Self.failure { () throws(SystemCallError) in try images.catalog().layers }
    var contents: [LayerContents] = []
    for name in layers {
      guard let layer = catalog.first(where: { $0.name == name }) else {
        throw EntryFailure(.ENOENT, detail: "no layer named \(name)")
      }
      contents.append(
        try Self.failure { () throws(SystemCallError) in
          try LayerDirectory.read(try images.directory(layer), .init(contents: true, overlayMarks: true))
        })
    }
    let copy = LayerContents(Overlay.merged(contents).map(\.entry).filter { $0.kind != .whiteout })
    try Self.failure { () throws(SystemCallError) in try LayerDirectory.write(copy, to: root) }
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

  /// The box's files, for a file command: the step fails at its first entry without a root.
  private func files(_ box: String, _ step: Step) throws(KernelError) -> BoxFiles {
    guard let root = boxRoot(box) else {
      throw KernelError(step: step, call: step.firstCall, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    return boxFiles(root)
  }

  /// An entry of a file command, made by this process on the box's files.
  private func here(_ body: @escaping () throws(BoxFiles.Failure) -> Void) -> Making {
    .here { () throws(EntryFailure) in
      do throws(BoxFiles.Failure) {
        try body()
      } catch {
        throw EntryFailure(Errno(rawValue: error.errno), detail: error.detail)
      }
    }
  }

  /// `write PATH TEXT`, entry by entry: the missing parents, the open, the data.
  private func writeFile(_ box: String, _ path: String, _ text: String, step: Step) throws(KernelError) {
    let files = try files(box, step)
    var fd: Int32 = -1
    defer { if fd >= 0 { close(fd) } }
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.makeParents): here { () throws(BoxFiles.Failure) in try files.makeParents(path) }
      case .openBeneath: here { () throws(BoxFiles.Failure) in fd = try files.openToWrite(path) }
      case .layer(.writeData(let data)):
        here { () throws(BoxFiles.Failure) in try files.writeData(fd, Array(data.utf8), shown: path) }
      default: throw unplanned(entry, step)
      }
    }
  }

  /// `rm PATH`, entry by entry: the parent's open beneath the root, the unlink.
  private func removeFile(_ box: String, _ path: String, step: Step) throws(KernelError) {
    let files = try files(box, step)
    var dirfd: Int32 = -1
    defer { if dirfd >= 0 { close(dirfd) } }
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .openBeneath: here { () throws(BoxFiles.Failure) in dirfd = try files.openParent(path) }
      case .layer(.unlink): here { () throws(BoxFiles.Failure) in try files.unlink(path, in: dirfd) }
      default: throw unplanned(entry, step)
      }
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

  /// `commit NAME`, entry by entry: the upper layer read, its tar made, its blobs stored, and the
  /// index naming the new image (a name that is taken fails there, and what was stored is taken
  /// back). The store's lock is held for the whole step, so no other session's prune or commit
  /// comes between the blobs and the name.
  private func commit(_ box: String, _ image: ImageName, step: Step) throws(KernelError) -> StepResult {
    var overlay = OverlayState(lowers: [], upper: "", work: "", merged: "")
    var contents = LayerContents()
    var tarred: ImageStore.TarredLayer?
    var stored = ImageStore.Stored()
    try holdingStore(step) { () throws(KernelError) in
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .layer(.walkUpper):
          return .here { () throws(EntryFailure) in
            guard let found = self.boxState[box]?.overlay else {
              throw EntryFailure(.EINVAL, detail: "the box's root filesystem is not an overlay")
            }
            overlay = found
            contents = try Self.failure { () throws(SystemCallError) in
              try LayerDirectory.read(found.upper, .init(contents: true, overlayMarks: true))
            }
          }
        case .layer(.tarUpper):
          return .here { () throws(EntryFailure) in
            tarred = ImageStore.tar(image.description, contents, hostSpecific: false)
          }
        case .layer(.storeBlobs):
          return onStore { () throws(SystemCallError) in
            if let tarred { try self.images.store(tarred, into: &stored) }
          }
        case .layer(.renameIndex): return nameImage(image) { (stored, overlay.lowers) }
        default: throw unplanned(entry, step)
        }
      }
    }
    guard let top = stored.layers.first else { return .none }
    return StepResult(
      output: ImageTransfer.committed(top.name, diffID: top.diffID, tarNames: LayerTar.entryNames(contents)))
  }

  /// `image import`, entry by entry: the directory walked, its tar made and stored, the index
  /// naming the image.
  private func importImage(_ image: ImageName, _ directory: String, step: Step) throws(KernelError) {
    var contents = LayerContents()
    var stored = ImageStore.Stored()
    try holdingStore(step) { () throws(KernelError) in
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .layer(.walkDirectory):
          return onStore { () throws(SystemCallError) in
            contents = try LayerDirectory.read(
              directory, .init(contents: true, overlayMarks: false, maxBytes: HostDirectory.maxImportBytes))
          }
        case .layer(.tarAndStoreBlobs):
          return onStore { () throws(SystemCallError) in
            try self.images.store(ImageStore.tar(image.description, contents, hostSpecific: false), into: &stored)
          }
        case .layer(.renameIndex): return nameImage(image) { (stored, []) }
        default: throw unplanned(entry, step)
        }
      }
    }
  }

  /// The entry that names a commit's or an import's image in the index: a name an image or a
  /// layer goes by already is EEXIST, and what the step stored is taken back. `made` gives what
  /// the entries before it stored, and the layers below, once they are made.
  private func nameImage(
    _ image: ImageName, _ made: @escaping () -> (ImageStore.Stored, [ImageStore.Layer])
  ) -> Making {
    .here { () throws(EntryFailure) in
      let (stored, below) = made()
      do throws(SystemCallError) {
        try self.images.name(image, stored.layers + below, unique: true, taking: stored)
      } catch {
        throw error.call == ImageStore.nameTaken
          ? EntryFailure(.EEXIST, detail: "an image or layer named \(image) exists")
          : EntryFailure(Errno(rawValue: error.errno), detail: error.call)
      }
    }
  }

  /// `image rm`, entry by entry: the name leaves the index; its blobs go unless another image
  /// names them; then each of its layers no other image uses (`removeImageLayer`), unless a box
  /// of any session still runs on it (it stays, going by its digest, until a prune or layer rm).
  private func removeImage(_ image: ImageName, step: Step) throws(KernelError) {
    var blobs: [String] = []
    var diffIDs: [String: String] = [:]
    try holdingStore(step) { () throws(KernelError) in
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .layer(.renameIndex(.forgets)):
          return onStore { () throws(SystemCallError) in
            diffIDs = Dictionary(try self.images.catalog().layers.map { ($0.name, $0.diffID) }) { a, _ in a }
            blobs = try self.images.forget(image).blobs
          }
        case .layer(.unlinkImageBlobs):
          return .here { () throws(EntryFailure) in self.images.removeUnreferenced(blobs: blobs) }
        case .layer(.removeImageLayer(let name)):
          return .here { () throws(EntryFailure) in
            if let diffID = diffIDs[name] { self.images.removeUnreferenced(blobs: [], layers: [diffID]) }
          }
        default: throw unplanned(entry, step)
        }
      }
    }
  }

  /// `layer rm`: its one entry, under the store's lock. A box of this session that runs on the
  /// layer is named; the store's own check (a held directory, layerHeld) finds those of other
  /// sessions.
  private func removeLayer(_ name: String, step: Step) throws(KernelError) {
    try make(step) { entry throws(KernelError) in
      guard case .layer(.removeUnusedLayer) = entry else { throw unplanned(entry, step) }
      return .here { () throws(EntryFailure) in
        let diffID = try Self.failure { () throws(SystemCallError) in try self.images.diffID(ofLayer: name) }
        if let diffID,
          let box = self.boxState.keys.sorted().first(where: {
            self.boxState[$0]?.overlay?.lowers.contains { $0.diffID == diffID } == true
          })
        {
          throw EntryFailure(.EBUSY, detail: ImageTransfer.layerBusy(box: box))
        }
        try Self.failure { () throws(SystemCallError) in try self.images.removeLayer(name) }
      }
    }
  }

  /// `image prune`, entry by entry: the store's lock (held for the whole step, taken just before
  /// its entries), what the images need, the rest removed, then the leftovers of killed writers.
  private func prune(_ step: Step) throws(KernelError) -> StepResult {
    // Layer blobs of this session's boxes stay, though an image may have stopped naming them.
    let running = Set(boxState.values.flatMap { $0.overlay?.lowers.map(\.blob.digest) ?? [] })
    var needed: (blobs: Set<String>, diffIDs: Set<String>) = ([], [])
    var removed = ImageStore.Removed()
    guard images.hasHome else { return StepResult(output: ImageTransfer.prunedBlobs(0)) }
    try holdingStore(step) { () throws(KernelError) in
      try make(step) { entry throws(KernelError) in
        switch entry {
        case .layer(.lockStore): return .here {}
        case .layer(.readIndex):
          return onStore { () throws(SystemCallError) in needed = try self.images.referenced() }
        case .layer(.deleteUnneeded):
          return .here { () throws(EntryFailure) in
            (removed.blobs, removed.layers) = self.images.removeUnneeded(
              blobs: needed.blobs.union(running), diffIDs: needed.diffIDs)
          }
        case .layer(.deleteLeftovers):
          return onStore { () throws(SystemCallError) in removed.leftovers = try self.images.sweepLeftovers() }
        default: throw unplanned(entry, step)
        }
      }
    }
    // Layers and the count of blobs as the simulator prints them (it knows which blobs the
    // store holds, not their digests); then what only a real store can have: the leftovers of
    // killed writers.
    return StepResult(
      output: removed.layers.sorted().map(ImageTransfer.prunedLayer) + ImageTransfer.prunedBlobs(removed.blobs.count)
        + removed.leftovers.map { "removed \($0), left by a killed pull or commit" })
  }

  /// Runs `body` holding the image store's lock (ImageStore.locked): a step whose entries read
  /// the store and then change it sees no other session's change in between. Failing to take
  /// the lock fails the step's first entry.
  func holdingStore(_ step: Step, _ body: () throws(KernelError) -> Void) throws(KernelError) {
    var failure: KernelError?
    try store(step, step.firstCall) { () throws(SystemCallError) in
      try images.locked { () throws(SystemCallError) in
        do throws(KernelError) { try body() } catch { failure = error }
      }
    }
    if let failure { throw failure }
  }

  /// An entry made by this process on the image store: its failure is the store's errno, with
  /// the call that failed as the detail.
  func onStore(_ body: @escaping () throws(SystemCallError) -> Void) -> Making {
    .here { () throws(EntryFailure) in try Self.failure(body) }
  }

  /// `body`'s SystemCallError as an entry's failure.
  static func failure<T>(_ body: () throws(SystemCallError) -> T) throws(EntryFailure) -> T {
    do {
      return try body()
    } catch {
      throw EntryFailure(Errno(rawValue: error.errno), detail: error.call)
    }
  }

  /// `body`'s RegistryError (a registry's answer, or its absence) as an entry's failure.
  static func failure<T>(_ body: () throws(RegistryError) -> T) throws(EntryFailure) -> T {
    do {
      return try body()
    } catch {
      throw EntryFailure(Errno(rawValue: error.errno), detail: error.detail)
    }
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

  /// `image push`, entry by entry: whether the registry has each blob (the image's layers,
  /// bottom first, then its config: HEAD, or stat(2) in a directory registry), then each missing
  /// one uploaded, then the manifest. A registry that refuses the connection fails the first
  /// HEAD, not an upload.
  private func push(_ image: ImageName, _ ref: RegistryRef, step: Step) throws(KernelError) -> StepResult {
    let target = registry(ref)
    // The blobs to send, bottom first (the config last), and whether the registry had each.
    var blobs: [(name: String?, digest: String, existed: Bool)] = []
    var manifestBytes: [UInt8] = []
    // A Ctrl-C pressed before this command started is not meant for it.
    _ = bw_interrupt_take()
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.registryHead), .layer(.statBlobs):
        return .here { () throws(EntryFailure) in
          let (found, digest) = try Self.failure { () throws(SystemCallError) in
            (
              try self.images.catalog().images.first { $0.name == image },
              try self.images.layout.index().manifest(named: image.full)?.digest
            )
          }
          guard let found, let digest else { throw EntryFailure(.ENOENT, detail: "no image named \(image)") }
          let config = try Self.failure { () throws(SystemCallError) in
            try self.images.manifestAndConfig(digest).0.config.digest
          }
          manifestBytes = try Self.failure { () throws(SystemCallError) in try self.images.layout.readBlob(digest) }
          let wanted = found.layers.reversed().map { (Optional($0.name), $0.blob.digest) } + [(nil, config)]
          for (name, blob) in wanted {
            blobs.append((name, blob, try Self.failure { () throws(RegistryError) in try target.hasBlob(blob) }))
          }
        }
      case .layer(.registryUpload), .layer(.copyBlobs):
        return .here { () throws(EntryFailure) in
          for blob in blobs where !blob.existed {
            let bytes = try Self.failure { () throws(SystemCallError) in try self.images.layout.readBlob(blob.digest) }
            try Self.failure { () throws(RegistryError) in try target.putBlob(blob.digest, bytes) }
          }
        }
      case .layer(.registryPutManifest), .layer(.renameDirectoryIndex):
        return .here { () throws(EntryFailure) in
          try Self.failure { () throws(RegistryError) in try target.putManifest(ref.tag, manifestBytes) }
        }
      default: throw unplanned(entry, step)
      }
    }
    return StepResult(
      output: blobs.map { blob in
        blob.name.map { ImageTransfer.pushedLayer($0, existed: blob.existed) }
          ?? ImageTransfer.pushedConfig(existed: blob.existed)
      } + [ImageTransfer.pushedManifest(ref)])
  }

  /// `image pull`: everything is fetched and checked first, and only then written to the store,
  /// so a registry that fails, stalls past the deadline or is interrupted by Ctrl-C halfway
  /// leaves the store exactly as it was.
  private func pull(_ ref: RegistryRef, step: Step) throws(KernelError) -> StepResult {
    let source = registry(ref)
    var lines: [String] = []
    // A Ctrl-C pressed before this command started is not meant for it.
    _ = bw_interrupt_take()
    var manifest: Manifest?
    var fetched: [PulledLayer] = []
    try make(step) { entry throws(KernelError) in
      switch entry {
      case .layer(.registryGetManifest), .layer(.openDirectoryIndex):
        return .here { () throws(EntryFailure) in
          let found = try Self.failure { () throws(RegistryError) in try self.pullManifest(ref, from: source) }
          manifest = found
          lines.append(ImageTransfer.pulledManifest(ref, layers: found.layers.count))
        }
      case .layer(.registryGetBlobs), .layer(.copyFromDirectory):
        return .here { () throws(EntryFailure) in
          guard let manifest else { return }
          fetched = try Self.failure { () throws(RegistryError) in
            let config = try self.pullConfig(manifest, of: ref, from: source)
            return try self.pullLayers(manifest, config, of: ref, from: source, lines: &lines)
          }
        }
      case .layer(.verifyAndUnpack):
        // Nothing was written before this entry: a failure until here leaves the store as it was.
        return .here { () throws(EntryFailure) in
          try Self.failure { () throws(RegistryError) in try self.storePulled(fetched, as: ref) }
        }
      default: throw unplanned(entry, step)
      }
    }
    return StepResult(output: lines)
  }

  /// A layer of a pull: the store's own when it had it (no bytes), else the fetched gzip.
  typealias PulledLayer = (layer: ImageStore.Layer, compressed: [UInt8]?)

  /// The manifest's GET: a document boxwalk reads, listing no more layers than a box stacks.
  private func pullManifest(_ ref: RegistryRef, from source: any Registry) throws(RegistryError) -> Manifest {
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
    return manifest
  }

  /// The config's GET, the first of the blobs: a document with one diff_id per layer.
  private func pullConfig(
    _ manifest: Manifest, of ref: RegistryRef, from source: any Registry
  ) throws(RegistryError) -> ImageConfig {
    let configBytes = try source.blob(manifest.config.digest, limit: JSONValue.maxDocument)
    guard let configJSON = try? JSONValue.parse(configBytes), let config = try? ImageConfig(json: configJSON),
      config.diffIDs.count == manifest.layers.count
    else { throw RegistryError(errno: EBADMSG, detail: "the config of \(ref) does not list one diff_id per layer") }
    return config
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
  private func storePulled(_ fetched: [PulledLayer], as ref: RegistryRef) throws(RegistryError) {
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
      throw error
    }
  }

  private func local<T>(_ body: () throws(SystemCallError) -> T) throws(RegistryError) -> T {
    do {
      return try body()
    } catch {
      throw RegistryError(errno: error.errno, detail: error.call)
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

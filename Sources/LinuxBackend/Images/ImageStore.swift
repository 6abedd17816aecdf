import Glibc
import Kernel
import OCI

/// The host's image store (docs/security.md, "Where sessions live"): an OCI image layout at
/// HOME/oci, and each layer unpacked for overlayfs at HOME/layers/<diff_id hex>, in overlayfs's own
/// form (whiteouts as character devices 0/0, opaque directories marked with the
/// trusted.overlay.opaque xattr), which is what containerd's overlayfs snapshotter does. HOME is
/// $BOXWALK_HOME, else /var/lib/boxwalk; tests and `boxwalk test` give a throwaway one inside the
/// session directory.
final class ImageStore {
  let home: String
  let layout: OCILayout
  private let busyboxPath: String
  /// Parsed documents and listings by digest: blobs never change.
  private var documents: [String: JSONValue] = [:]
  private var listings: [String: LayerContents] = [:]
  /// The store's flock(2), held by `locked` (see there); nested calls share it.
  private var lockFD: Int32 = -1
  private var lockDepth = 0
  /// Repairs made while reading (a corrupt index moved aside), for the next step to print.
  private(set) var notes: [String] = []

  struct Layer: Equatable {
    var name: String
    var diffID: String
    var blob: Descriptor
    var hostSpecific: Bool
  }

  struct Image {
    var name: ImageName
    /// Top first.
    var layers: [Layer]
  }

  static let layerNameKey = Annotation.layerName
  static let hostSpecificKey = "io.boxwalk.layer.host-specific"

  init(home: String? = nil, busybox: String = "/bin/busybox") {
    if let home {
      self.home = home
    } else if let env = getenv("BOXWALK_HOME"), env.pointee != 0 {
      self.home = String(cString: env)
    } else {
      self.home = "/var/lib/boxwalk"
    }
    layout = OCILayout(root: self.home + "/oci")
    busyboxPath = busybox
  }

  var busyboxAvailable: Bool { access(busyboxPath, X_OK) == 0 }

  /// The busybox layer's diff_id before the image is built (the store builds it at the first
  /// rootfs or overlay): the sha256 of the tar the build would write, so the state shows the
  /// digest the layer will have rather than nothing. Read and hashed once.
  private var busyboxDigest: String?
  func busyboxDiffID() -> String {
    if let busyboxDigest { return busyboxDigest }
    let digest = (try? readBusybox()).map { Self.busyboxDiffID(binary: $0) } ?? ""
    busyboxDigest = digest
    return digest
  }

  /// The diff_id of the busybox layer made from this binary.
  static func busyboxDiffID(binary: [UInt8]) -> String {
    LayerTar.diffID(BusyboxImage.layer(busybox: binary))
  }

  func readBusybox() throws(SystemCallError) -> [UInt8] {
    let fd = open(busyboxPath, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw SystemCallError(call: "open(\(SmallFiles.quoted(busyboxPath)))", errno: errno) }
    defer { close(fd) }
    var info = stat()
    let size = fstat(fd, &info) == 0 ? Int(info.st_size) : 0
    return try FileDescriptors.readAll(fd, shown: busyboxPath, limit: 64 << 20, expected: size)
  }

  // MARK: Reading

  /// Every image and layer the index names. A layer is known by its diff_id; its name is the one
  /// its first manifest gives it (a name taken by other content gets the short digest instead).
  func catalog() throws(SystemCallError) -> (images: [Image], layers: [Layer]) {
    guard layout.exists else { return ([], []) }
    var images: [Image] = []
    var layers: [Layer] = []
    for descriptor in try index().manifests {
      guard let ref = descriptor.annotation(Annotation.refName), case .success(let name) = ImageName.parse(ref) else {
        continue
      }
      let (manifest, config) = try manifestAndConfig(descriptor.digest)
      var stack: [Layer] = []
      for (blob, diffID) in zip(manifest.layers, config.diffIDs) {
        if let known = layers.first(where: { $0.diffID == diffID }) {
          stack.insert(known, at: 0)
          continue
        }
        var layerName = blob.annotation(Self.layerNameKey) ?? ImageTransfer.fallbackName(diffID)
        if Names.checkName(layerName, limit: 200) != nil && ImageName.parse(layerName).isFailure
          || layers.contains(where: { $0.name == layerName })
        {
          layerName = ImageTransfer.fallbackName(diffID)
        }
        let layer = Layer(
          name: layerName, diffID: diffID, blob: blob, hostSpecific: blob.annotation(Self.hostSpecificKey) == "true")
        layers.append(layer)
        stack.insert(layer, at: 0)
      }
      images.append(Image(name: name, layers: stack))
    }
    return (images, layers)
  }

  func manifestAndConfig(_ digest: String, in source: OCILayout? = nil) throws(SystemCallError) -> (
    Manifest, ImageConfig
  ) {
    let place = source ?? layout
    guard let manifest = try? Manifest(json: try document(digest, place)) else {
      throw SystemCallError(call: "parse(manifest \(digest.prefix(19)))", errno: EBADMSG)
    }
    guard let config = try? ImageConfig(json: try document(manifest.config.digest, place)),
      config.diffIDs.count == manifest.layers.count
    else { throw SystemCallError(call: "parse(config \(manifest.config.digest.prefix(19)))", errno: EBADMSG) }
    return (manifest, config)
  }

  private func document(_ digest: String, _ place: OCILayout) throws(SystemCallError) -> JSONValue {
    if let known = documents[digest] { return known }
    let json = try place.document(digest)
    documents[digest] = json
    return json
  }

  /// The unpacked layers no image names: a directory `layers/<diff_id hex>` that index.json no
  /// longer reaches (its image was tagged over or pulled again, or a box still ran on it when
  /// its image went). Nothing records the name it had, so it goes by its digest
  /// (ImageTransfer.fallbackName) until `layer rm` or `image prune` removes it.
  func unnamedLayers(named: [Layer]) -> [String] {
    let known = Set(named.map(\.diffID))
    return ((try? SmallFiles.list(home + "/layers")) ?? []).sorted().map { "sha256:" + $0 }.filter {
      SHA256.isDigest($0) && !known.contains($0)
    }
  }

  /// How many files the unnamed layer with this diff_id holds, read from its directory.
  private func unnamedListing(_ diffID: String) throws(SystemCallError) -> LayerContents {
    if let known = listings[diffID] { return known }
    let contents = try LayerDirectory.read(layerPath(diffID), .init(contents: false, overlayMarks: true))
    listings[diffID] = contents
    return contents
  }

  /// The diff_id of the layer that goes by `name`: named by an image, or unnamed (see
  /// unnamedLayers).
  func diffID(ofLayer name: String) throws(SystemCallError) -> String? {
    let layers = try catalog().layers
    if let named = layers.first(where: { $0.name == name }) { return named.diffID }
    return unnamedLayers(named: layers).first { ImageTransfer.fallbackName($0) == name }
  }

  /// The facts the state tree shows. Reading them writes nothing: until a step uses it, the
  /// busybox image is listed as it will be (its content, so its digest, is this host's anyway),
  /// and a session that never touches layers leaves the store alone.
  func facts() throws(SystemCallError) -> (images: [ImageFacts], layers: [LayerFacts]) {
    let (images, layers) = try catalog()
    var imageFacts = images.map { ImageFacts(name: $0.name, layers: $0.layers.map(\.name)) }
    var layerFacts = try layers.map { l throws(SystemCallError) in
      LayerFacts(name: l.name, diffID: l.diffID, files: try listing(l).fileCount, hostSpecific: l.hostSpecific)
    }
    for diffID in unnamedLayers(named: layers) {
      layerFacts.append(
        LayerFacts(
          name: ImageTransfer.fallbackName(diffID), diffID: diffID, files: try unnamedListing(diffID).fileCount,
          hostSpecific: diffID == busyboxDiffID()))
    }
    let busybox = ImageName(name: BusyboxImage.name)
    if busyboxAvailable, !images.contains(where: { $0.name == busybox }),
      !layers.contains(where: { $0.name == BusyboxImage.name })
    {
      imageFacts.append(ImageFacts(name: busybox, layers: [BusyboxImage.name]))
      let files = BusyboxImage.layer(busybox: []).fileCount
      layerFacts.append(LayerFacts(name: BusyboxImage.name, diffID: busyboxDiffID(), files: files, hostSpecific: true))
    }
    return (imageFacts, layerFacts)
  }

  /// Where the layer with this diff_id is (or would be) unpacked.
  func layerPath(_ diffID: String) -> String { home + "/layers/" + diffID.dropFirst(7) }

  /// Where a layer is unpacked (unpacking it from its blob if it is not yet).
  func directory(_ layer: Layer) throws(SystemCallError) -> String {
    let path = layerPath(layer.diffID)
    if access(path, F_OK) == 0 { return path }
    let tar = try tarOf(layer.blob, diffID: layer.diffID, from: layout)
    guard let contents = try? LayerTar.read(tar) else {
      throw SystemCallError(call: "read the tar of layer \(layer.name)", errno: EBADMSG)
    }
    try unpack(contents, at: path)
    return path
  }

  /// What a layer holds (kinds only), read from its directory.
  func listing(_ layer: Layer) throws(SystemCallError) -> LayerContents {
    if let known = listings[layer.diffID] { return known }
    let contents = try LayerDirectory.read(try directory(layer), .init(contents: false, overlayMarks: true))
    listings[layer.diffID] = contents
    return contents
  }

  /// The uncompressed tar of a layer blob, checked against its diff_id.
  func tarOf(_ blob: Descriptor, diffID: String, from place: OCILayout) throws(SystemCallError) -> [UInt8] {
    let compressed = try place.readBlob(blob.digest)
    let tar: [UInt8]
    do {
      tar = try Gzip.decompress(compressed, limit: LayerTar.maxTotalBytes + (64 << 20))
    } catch {
      throw SystemCallError(call: "gunzip(blob \(blob.digest.prefix(19))): \(error.reason)", errno: EBADMSG)
    }
    guard SHA256.digest(tar) == diffID else {
      throw SystemCallError(call: "sha256(layer tar): it is not the diff_id its config names", errno: EBADMSG)
    }
    return tar
  }

  /// Writes a layer's directory, with the store's mode rule applied (StoreModes): a pulled layer
  /// may hold setuid files, and its blob keeps them (its digest is the registry's), but the
  /// directory overlayfs and every local user reads does not.
  private func unpack(_ contents: LayerContents, at path: String) throws(SystemCallError) {
    try makeStoreDirectory(home + "/layers")
    let partial = path + Self.partialMarker + "\(getpid())"
    FileTree.remove(partial)
    do {
      try LayerDirectory.write(contents.withStoreModes, to: partial)
    } catch {
      FileTree.remove(partial)
      throw error
    }
    guard rename(partial, path) == 0 else {
      let failure = errno
      FileTree.remove(partial)
      if failure == EEXIST || failure == ENOTEMPTY { return }
      throw SystemCallError(call: "rename(\(SmallFiles.quoted(partial)))", errno: failure)
    }
  }

  // MARK: Writing

  /// Makes the busybox image from busybox-static when the store has none, so `rootfs busybox` works
  /// offline. A store an older boxwalk made holds an older busybox image: one that lacks what was
  /// added since (a directory such as /dev/mqueue) is made again, so a lesson that mounts there
  /// works on every machine, not only on a fresh store.
  func ensureBusybox() throws(SystemCallError) {
    let name = ImageName(name: BusyboxImage.name)
    if layout.exists, let existing = try index().manifest(named: name.full), try isCurrent(existing.digest) {
      return
    }
    guard busyboxAvailable else { return }
    let binary = try readBusybox()
    try locked { () throws(SystemCallError) in
      // Another session may have made it while we read the binary.
      if let existing = try index().manifest(named: name.full), try isCurrent(existing.digest) { return }
      _ = try add(name, new: [(BusyboxImage.name, BusyboxImage.layer(busybox: binary), true)], below: [])
    }
  }

  /// The busybox manifest this process last found current. Every layer step asks; a manifest is
  /// named by its digest and never changes, so one check per manifest is enough, and the lstat(2)
  /// walk of `busyboxIsCurrent` runs once per session instead of once per step. Another manifest
  /// under the name (`image rm busybox`, a newer boxwalk's rebuild) is checked afresh.
  private var currentBusybox: String?
  private func isCurrent(_ digest: String) throws(SystemCallError) -> Bool {
    if digest == currentBusybox { return true }
    guard try busyboxIsCurrent(digest) else { return false }
    currentBusybox = digest
    return true
  }

  /// Whether the image called busybox has every entry this boxwalk's busybox image has, with the
  /// same small files. One lstat(2) per entry of the unpacked layer: no hashing of the binary,
  /// so a session's start stays cheap. An image of more than one layer, or whose layer has
  /// another name, is the learner's own (`image tag app busybox`) and is left alone, as is one
  /// whose layer is not unpacked (nothing to compare without unpacking it).
  func busyboxIsCurrent(_ digest: String) throws(SystemCallError) -> Bool {
    let (manifest, config) = try manifestAndConfig(digest)
    guard config.diffIDs.count == 1, manifest.layers.count == 1,
      manifest.layers[0].annotation(Self.layerNameKey) == BusyboxImage.name
    else { return true }
    let root = layerPath(config.diffIDs[0])
    guard access(root, F_OK) == 0 else { return true }
    var st = stat()
    for (path, entry) in BusyboxImage.layer(busybox: []).entries where path != "/" {
      guard lstat(root + path, &st) == 0 else { return false }
      if case .file(let bytes) = entry.kind, path.hasPrefix("/etc/") {
        guard (try? SmallFiles.read(root + path)) == bytes else { return false }
      }
    }
    return true
  }

  /// The call a name that is already taken fails with (EEXIST), for `add(..., unique: true)`.
  static let nameTaken = "an image or layer of that name exists"

  /// Adds an image: new layers (top first) on top of existing ones. A new layer whose content
  /// the store has already is not stored twice. Returns the new image's layers, top first.
  ///
  /// All of it happens under the store's lock, so with `unique` the check that no image or layer
  /// is called `name` and the index entry that makes it so are one step: of two sessions
  /// committing the same name at once, the second finds the first's image and fails with EEXIST
  /// (call `nameTaken`) instead of silently replacing it.
  @discardableResult
  func add(
    _ name: ImageName, new: [(name: String, contents: LayerContents, hostSpecific: Bool)], below: [Layer],
    unique: Bool = false
  ) throws(SystemCallError) -> [Layer] {
    try locked { () throws(SystemCallError) -> [Layer] in
      var stored = Stored()
      for (layerName, contents, hostSpecific) in new {
        try store(Self.tar(layerName, contents, hostSpecific: hostSpecific), into: &stored)
      }
      let stack = stored.layers + below
      try self.name(name, stack, unique: unique, taking: stored)
      return stack
    }
  }

  /// A layer made ready to store: its contents under the store's mode rule (StoreModes, so the
  /// digest is that of what is stored), their tar and its sha256, the diff_id.
  struct TarredLayer {
    var name: String
    var contents: LayerContents
    var tar: [UInt8]
    var diffID: String
    var hostSpecific: Bool
  }

  /// What storing layers wrote (their blobs, their unpacked directories): nothing names it until
  /// `name` does, and a failed naming takes it back.
  struct Stored {
    /// The layers stored, in the order stored: new ones, or ones the store had with the same diff_id.
    var layers: [Layer] = []
    var written: [String] = []
    var unpacked: [String] = []
  }

  /// A commit's or an import's tar, made in this process.
  static func tar(_ name: String, _ original: LayerContents, hostSpecific: Bool) -> TarredLayer {
    let contents = original.withStoreModes
    let tar = LayerTar.write(contents)
    return TarredLayer(name: name, contents: contents, tar: tar, diffID: SHA256.digest(tar), hostSpecific: hostSpecific)
  }

  /// Stores a layer under the store's lock: gzip, sha256, the blob written, the tar unpacked into
  /// layers/<diff_id>. A layer the store has (the same diff_id) is taken as it is. If this fails,
  /// what it and the earlier layers of `stored` wrote is taken back.
  func store(_ layer: TarredLayer, into stored: inout Stored) throws(SystemCallError) {
    try locked { () throws(SystemCallError) in
      do throws(SystemCallError) {
        try prepareLayout()
        if let same = try catalog().layers.first(where: { $0.diffID == layer.diffID }) {
          stored.layers.append(same)
          return
        }
        let gz: [UInt8]
        do throws(Gzip.Failure) {
          gz = try Gzip.compress(layer.tar)
        } catch {
          throw SystemCallError(call: "gzip(layer \(layer.name)): \(error.reason)", errno: EIO)
        }
        let existed = layout.hasBlob(SHA256.digest(gz))
        let digest = try layout.writeBlob(gz)
        if !existed { stored.written.append(digest) }
        var annotations = [(Self.layerNameKey, layer.name)]
        if layer.hostSpecific { annotations.append((Self.hostSpecificKey, "true")) }
        let blob = Descriptor(mediaType: MediaType.layerGzip, digest: digest, size: gz.count, annotations: annotations)
        if access(layerPath(layer.diffID), F_OK) != 0 {
          try unpack(layer.contents, at: layerPath(layer.diffID))
          stored.unpacked.append(layer.diffID)
        }
        stored.layers.append(
          Layer(name: layer.name, diffID: layer.diffID, blob: blob, hostSpecific: layer.hostSpecific))
      } catch {
        removeUnreferenced(blobs: stored.written, layers: stored.unpacked)
        throw error
      }
    }
  }

  /// Names `name` as `stack` (top first): its config and manifest written, and the index
  /// replaced (`tag`). With `unique`, a name an image or a layer goes by already fails with
  /// EEXIST (`nameTaken`). Either failure takes back what `stored` wrote, so a failed commit or
  /// import leaves the store as it was.
  func name(_ name: ImageName, _ stack: [Layer], unique: Bool, taking stored: Stored) throws(SystemCallError) {
    try locked { () throws(SystemCallError) in
      do throws(SystemCallError) {
        if unique {
          let catalog = try catalog()
          if catalog.images.contains(where: { $0.name == name })
            || catalog.layers.contains(where: { $0.name == name.description })
          {
            throw SystemCallError(call: Self.nameTaken, errno: EEXIST)
          }
        }
        try tag(name, stack)
      } catch {
        removeUnreferenced(blobs: stored.written, layers: stored.unpacked)
        throw error
      }
    }
  }

  /// Writes the config and manifest of `stack` (top first) and points `name` at it.
  func tag(_ name: ImageName, _ stack: [Layer]) throws(SystemCallError) {
    let bottomFirst = Array(stack.reversed())
    let config = ImageConfig(architecture: Self.architecture, diffIDs: bottomFirst.map(\.diffID)).json.encoded()
    let manifest = Manifest(
      config: Descriptor(mediaType: MediaType.config, digest: SHA256.digest(config), size: config.count),
      layers: bottomFirst.map { layer in
        var blob = layer.blob
        blob.annotations =
          [(Self.layerNameKey, layer.name)] + (layer.hostSpecific ? [(Self.hostSpecificKey, "true")] : [])
        return blob
      }
    ).json.encoded()
    try locked { () throws(SystemCallError) in
      try prepareLayout()
      try layout.writeBlob(config)
      let manifestDigest = try layout.writeBlob(manifest)
      var index = try index()
      index.tag(name.full, Descriptor(mediaType: MediaType.manifest, digest: manifestDigest, size: manifest.count))
      try layout.writeIndex(index)
    }
  }

  /// `image tag SOURCE TARGET`: TARGET names SOURCE's manifest. ENOENT if there is no SOURCE.
  func retag(_ source: ImageName, as target: ImageName) throws(SystemCallError) {
    try locked { () throws(SystemCallError) in
      var index = try index()
      guard let manifest = index.manifest(named: source.full) else {
        throw SystemCallError(call: "index.json", errno: ENOENT)
      }
      index.tag(target.full, manifest)
      try layout.writeIndex(index)
    }
  }

  // MARK: The lock and the index

  /// Runs `body` holding the store's lock: flock(2) LOCK_EX on the store's directory, the same
  /// way the state root is locked (a directory can be flocked like any open file; the kernel
  /// drops the lock when the descriptor closes, even if we are killed, so a crash never leaves
  /// the store locked). Every read-modify-write of index.json runs under it: without it two
  /// sessions each read the index, each add their tag, and the second rename(2) throws the
  /// first one's tag away. Nested calls (add calls tag) reuse the lock: flock(2) locks belong to
  /// an open file description, so a second open and LOCK_EX in this process would wait forever.
  ///
  /// Taking it also checks the store's directories: each must be a directory of ours (not a
  /// symbolic link, not another user's) that no one else can write, or anyone could swap a
  /// layer that every later box runs.
  func locked<T>(_ body: () throws(SystemCallError) -> T) throws(SystemCallError) -> T {
    if lockDepth == 0 {
      try makeStoreDirectory(home)
      let fd = open(home, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      guard fd >= 0 else { throw SystemCallError(call: "open(\(SmallFiles.quoted(home)), O_DIRECTORY)", errno: errno) }
      var rc: Int32
      repeat { rc = flock(fd, LOCK_EX) } while rc != 0 && errno == EINTR
      guard rc == 0 else {
        let failure = SystemCallError(call: "flock(\(SmallFiles.quoted(home)), LOCK_EX)", errno: errno)
        close(fd)
        throw failure
      }
      lockFD = fd
    }
    lockDepth += 1
    defer {
      lockDepth -= 1
      if lockDepth == 0 {
        close(lockFD)
        lockFD = -1
      }
    }
    return try body()
  }

  /// mkdir -p `path` (mode 0755, as umask allows), then refuse it unless it is a directory owned
  /// by this user that only this user can write (a planted link or a world-writable directory
  /// would let someone else change the store). For the home, the way to it is checked too
  /// (homeProblem): a link there must be this user's, and no directory above it another user's.
  func makeStoreDirectory(_ path: String) throws(SystemCallError) {
    try Directories.make(path)
    if path == home, let problem = Self.homeProblem(home) { throw problem }
    var st = stat()
    // The store's home may be a symbolic link its user made (BOXWALK_HOME): stat(2) follows it;
    // the directories boxwalk made inside must be real ones: lstat(2).
    let rc = path == home ? stat(path, &st) : lstat(path, &st)
    guard rc == 0 else { throw SystemCallError(call: "stat(\(SmallFiles.quoted(path)))", errno: errno) }
    guard st.st_mode & S_IFMT == S_IFDIR else {
      throw SystemCallError(call: "lstat(\(SmallFiles.quoted(path))): not a directory", errno: ENOTDIR)
    }
    guard st.st_uid == geteuid() else {
      throw SystemCallError(
        call: "stat(\(SmallFiles.quoted(path))): owned by uid \(st.st_uid), not by this user; the image store must be",
        errno: EPERM)
    }
    guard st.st_mode & 0o022 == 0 else {
      throw SystemCallError(
        call: "stat(\(SmallFiles.quoted(path))): mode \(String(st.st_mode & 0o7777, radix: 8)), writable by others; "
          + "chmod go-w it or set BOXWALK_HOME to a directory only you can write",
        errno: EPERM)
    }
  }

  /// Why the way to the store's home lets another user choose or change what root (or this
  /// user) writes there, or nil. The home may be a symbolic link, as BOXWALK_HOME is the user's
  /// choice, but a link another user owns is theirs: one planted at a name in /tmp decides
  /// where the store goes (the trap fs.protected_symlinks closes, where it is on). And every
  /// directory above the home, the link's own and the real one's, must be this user's or
  /// root's, and writable by no one else unless sticky (a sticky directory such as /tmp lets
  /// no one rename or remove another user's entry, see inode(7)): whoever can write one can
  /// rename the store away and put a link in its place between two steps. This is the rule
  /// OpenSSH applies to authorized_keys (StrictModes, sshd_config(5)).
  static func homeProblem(_ home: String) -> SystemCallError? {
    let me = geteuid()
    var st = stat()
    var ways: [String] = []
    if lstat(home, &st) == 0, st.st_mode & S_IFMT == S_IFLNK {
      guard st.st_uid == me || st.st_uid == 0 else {
        return SystemCallError(
          call: "lstat(\(SmallFiles.quoted(home))): a symbolic link owned by uid \(st.st_uid), not by this user "
            + "(another user made it); remove it, or set BOXWALK_HOME to a directory of yours",
          errno: EPERM)
      }
      ways.append(Self.parent(of: absolute(home)))
    }
    guard let resolved = realpath(home, nil) else {
      return SystemCallError(call: "realpath(\(SmallFiles.quoted(home)))", errno: errno)
    }
    ways.append(Self.parent(of: String(cString: resolved)))
    free(resolved)
    for start in ways {
      var directory = start
      while true {
        guard stat(directory, &st) == 0 else {
          return SystemCallError(call: "stat(\(SmallFiles.quoted(directory)))", errno: errno)
        }
        let othersWrite = st.st_mode & 0o022 != 0 && st.st_mode & S_ISVTX == 0
        if (st.st_uid != me && st.st_uid != 0) || othersWrite {
          let who = st.st_uid != me && st.st_uid != 0 ? "owned by uid \(st.st_uid)" : "writable by others"
          return SystemCallError(
            call: "stat(\(SmallFiles.quoted(directory))): a directory above the image store, \(who), "
              + "so another user could put something else in the store's place; "
              + "set BOXWALK_HOME to a directory under one only you and root can write",
            errno: EPERM)
        }
        if directory == "/" { break }
        directory = Self.parent(of: directory)
      }
    }
    return nil
  }

  /// `path` made absolute against the working directory (the way to a relative BOXWALK_HOME).
  private static func absolute(_ path: String) -> String {
    if path.hasPrefix("/") { return path }
    guard let cwd = getcwd(nil, 0) else { return "/" + path }
    defer { free(cwd) }
    return String(cString: cwd) + "/" + path
  }

  /// The directory that holds `path` ("/" for "/x"), by text.
  private static func parent(of path: String) -> String {
    var trimmed = path
    while trimmed.count > 1 && trimmed.hasSuffix("/") { trimmed.removeLast() }
    guard let slash = trimmed.lastIndex(of: "/") else { return "." }
    return slash == trimmed.startIndex ? "/" : String(trimmed[..<slash])
  }

  /// mkdir -p the OCI layout and the layers directory, every directory checked
  /// (makeStoreDirectory) before anything looks inside, with `oci-layout` and an empty index
  /// when they are missing.
  func prepareLayout() throws(SystemCallError) {
    try locked { () throws(SystemCallError) in
      for sub in ["/oci", "/oci/blobs", "/oci/blobs/sha256", "/layers"] { try makeStoreDirectory(home + sub) }
      try layout.create()
    }
  }

  /// index.json. One that is not a JSON image index (a crash of an older boxwalk, another
  /// program) is moved aside first (see repairIndex), so a broken index never stops a session:
  /// the store goes on with an empty one and says so.
  func index() throws(SystemCallError) -> ImageIndex {
    if let index = try layout.parsedIndex() { return index }
    try repairIndex()
    return try layout.index()
  }

  /// Moves an index.json that does not parse to index.json.corrupt-TIME-PID and returns what
  /// it did (also kept in `notes`); nil when the index is fine (another session may have
  /// repaired it while we waited for the lock).
  @discardableResult
  func repairIndex() throws(SystemCallError) -> String? {
    try locked { () throws(SystemCallError) -> String? in
      guard access(layout.indexPath, F_OK) == 0, try layout.parsedIndex() == nil else { return nil }
      let aside = layout.indexPath + ".corrupt-\(time(nil))-\(getpid())"
      guard rename(layout.indexPath, aside) == 0 else {
        throw SystemCallError(call: "rename(\(SmallFiles.quoted(layout.indexPath)))", errno: errno)
      }
      let note =
        "the image store's index.json was not a JSON image index: moved it to \(aside) and started an empty one; "
        + "its layers are kept (image import or pull them again), or `image prune` removes them"
      notes.append(note)
      return note
    }
  }

  /// Drops a layer's cached listing (its directory was removed).
  func listingsForget(_ diffID: String) { listings[diffID] = nil }

  /// The repair notes so far, once.
  func takeNotes() -> [String] {
    defer { notes = [] }
    return notes
  }

  /// The OCI platform name of this machine (uname(2) machine, as Go's GOARCH spells it).
  static var architecture: String {
    var u = utsname()
    uname(&u)
    let machine = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
    switch machine {
    case "x86_64": return "amd64"
    case "aarch64": return "arm64"
    default: return machine
    }
  }
}

extension Result {
  var isFailure: Bool { if case .failure = self { true } else { false } }
}

import Glibc
import OCI
import Kernel

/// Keeping the store tidy: what a killed or failed pull, commit or import left behind.
///
/// A blob is written to BLOB.tmp-PID-N and renamed into place; a layer is unpacked into
/// LAYER.partial-PID and renamed. SIGKILL between the two leaves the temporary behind, and a
/// pull or commit that fails after storing a blob leaves a blob that no manifest names. Neither
/// is ever read (blobs are found by digest through the index, layers by diff_id), so they are
/// only wasted space, but nothing else would ever remove them.
extension ImageStore {
  static let partialMarker = ".partial-"

  /// What a sweep or prune removed, each as the store-relative path.
  struct Removed: Equatable {
    var leftovers: [String] = []
    var blobs: [String] = []
    var layers: [String] = []
  }

  /// At the start of a session: removes temporaries and partial layers whose writer process is
  /// gone. A live writer's files (another session pulling right now) are left alone.
  func sweepLeftovers() throws(SystemCallError) -> [String] {
    guard access(home, F_OK) == 0 else { return [] }
    return try locked { () throws(SystemCallError) -> [String] in
      var removed: [String] = []
      for (directory, relative) in [
        (layout.root + "/blobs/sha256", "oci/blobs/sha256/"), (home + "/layers", "layers/"),
      ] {
        for name in (try? SmallFiles.list(directory)) ?? [] where Self.isAbandoned(name) {
          FileTree.remove(directory + "/" + name)
          removed.append(relative + name)
        }
      }
      for name in (try? SmallFiles.list(layout.root)) ?? [] where Self.isAbandoned(name) {
        unlink(layout.root + "/" + name)
        removed.append("oci/" + name)
      }
      return removed.sorted()
    }
  }

  /// Layers unpacked by an older boxwalk kept their setuid, setgid, sticky and world-write bits
  /// (StoreModes): clears them in place and returns how many files and directories changed.
  /// Only layers/ is walked, with lstat(2) so no link is followed; the store's directories are
  /// this user's alone (makeStoreDirectory), so nothing can be swapped in meanwhile.
  func clearUnsafeModes() throws(SystemCallError) -> Int {
    let layers = home + "/layers"
    guard access(layers, F_OK) == 0 else { return 0 }
    return try locked { () throws(SystemCallError) -> Int in
      try makeStoreDirectory(layers)
      var changed = 0
      func walk(_ path: String, depth: Int) {
        guard depth < 256 else { return }
        for name in (try? SmallFiles.list(path)) ?? [] {
          let child = path + "/" + name
          var st = stat()
          guard lstat(child, &st) == 0 else { continue }
          let kind = st.st_mode & S_IFMT
          guard kind == S_IFREG || kind == S_IFDIR else { continue }
          let mode = UInt32(st.st_mode & 0o7777)
          if mode & StoreModes.cleared != 0 && chmod(child, mode_t(StoreModes.safe(mode))) == 0 { changed += 1 }
          if kind == S_IFDIR { walk(child, depth: depth + 1) }
        }
      }
      walk(layers, depth: 0)
      return changed
    }
  }

  /// A blob temporary (NAME.tmp-PID-N) or partial layer (NAME.partial-PID) of a process that is
  /// no more.
  static func isAbandoned(_ name: String) -> Bool {
    if SafeFiles.isAbandonedTemporary(name) { return true }
    guard let pid = SafeFiles.writerPID(name, marker: partialMarker) else { return false }
    return !SafeFiles.processExists(pid)
  }

  /// Every blob digest and layer diff_id the index reaches: its manifests, their configs and
  /// layers. Throws rather than guess when a manifest cannot be read: pruning on a partial
  /// answer would delete what an image needs.
  func referenced() throws(SystemCallError) -> (blobs: Set<String>, diffIDs: Set<String>) {
    var blobs: Set<String> = []
    var diffIDs: Set<String> = []
    for descriptor in try index().manifests {
      let (manifest, config) = try manifestAndConfig(descriptor.digest)
      blobs.insert(descriptor.digest)
      blobs.insert(manifest.config.digest)
      for layer in manifest.layers { blobs.insert(layer.digest) }
      diffIDs.formUnion(config.diffIDs)
    }
    return (blobs, diffIDs)
  }

  /// Takes back the blobs and layer directories a failed step wrote, those no image names
  /// (another session may have stored the same ones for an image of its own meanwhile). Best
  /// effort: the step's own error is what the learner needs to see, and `image prune` removes
  /// whatever is left.
  func removeUnreferenced(blobs digests: [String], layers diffIDs: [String] = []) {
    guard !digests.isEmpty || !diffIDs.isEmpty else { return }
    _ = try? locked { () throws(SystemCallError) in
      let keep = try referenced()
      for digest in digests where !keep.blobs.contains(digest) { unlink(layout.blobPath(digest)) }
      // A layer a box of another session still mounts stays; a later prune removes it.
      for diffID in diffIDs where !keep.diffIDs.contains(diffID) && !layerHeld(diffID) {
        FileTree.remove(layerPath(diffID))
        listingsForget(diffID)
      }
    }
  }

  /// `image prune`: removes every blob and layer directory no image reaches, and the leftovers
  /// of killed writers (see sweepLeftovers). Under the store's lock, so no tag or commit runs
  /// meanwhile; a pull in progress in another session may lose a blob it has stored but not yet
  /// tagged, and then fails with an error that says so instead of tagging a broken image.
  ///
  /// `keeping` names blobs to leave although no image reaches them: the layer blobs of this
  /// session's boxes, whose layers an image may have stopped naming. A commit on such a box names
  /// the blob in its new manifest, so it must still be there.
  func prune(keeping: Set<String> = []) throws(SystemCallError) -> Removed {
    guard hasHome else { return Removed() }
    return try locked { () throws(SystemCallError) -> Removed in
      var removed = Removed()
      let (blobs, diffIDs) = try referenced()
      (removed.blobs, removed.layers) = removeUnneeded(blobs: blobs.union(keeping), diffIDs: diffIDs)
      removed.leftovers = try sweepLeftovers()
      return removed
    }
  }

  /// Whether the store's directory exists: a store never used has nothing to prune.
  var hasHome: Bool { access(home, F_OK) == 0 }

  /// Removes every blob and layer directory not among `blobs` and `diffIDs` (what the images
  /// need), but a layer a box of any session holds. Call it holding the store's lock. Returns the
  /// digests and diff_ids removed.
  func removeUnneeded(blobs: Set<String>, diffIDs: Set<String>) -> (blobs: [String], layers: [String]) {
    var removed: (blobs: [String], layers: [String]) = ([], [])
    let blobDirectory = layout.root + "/blobs/sha256"
    for name in ((try? SmallFiles.list(blobDirectory)) ?? []).sorted() {
      let digest = "sha256:" + name
      guard SHA256.isDigest(digest), !blobs.contains(digest) else { continue }
      unlink(blobDirectory + "/" + name)
      removed.blobs.append(digest)
    }
    let layerDirectory = home + "/layers"
    for name in ((try? SmallFiles.list(layerDirectory)) ?? []).sorted() {
      let diffID = "sha256:" + name
      guard SHA256.isDigest(diffID), !diffIDs.contains(diffID), !layerHeld(diffID) else { continue }
      FileTree.remove(layerDirectory + "/" + name)
      listingsForget(diffID)
      removed.layers.append(diffID)
    }
    return removed
  }
}

extension LinuxKernel {
  /// At the start of a session on the real (rootless: false) or rootless backend, before any
  /// kernel exists: a corrupt index.json is moved aside and the leftovers of killed pulls and
  /// commits are removed from the store the session will use. One line per thing done.
  public static func tidyImageStore(rootless: Bool) -> [String] {
    tidy(ImageStore(home: rootless ? rootlessImageHome() : nil))
  }

  static func tidy(_ store: ImageStore) -> [String] {
    guard access(store.home, F_OK) == 0 else { return [] }
    do {
      var lines: [String] = []
      if let note = try store.repairIndex() { lines.append(note) }
      lines += try store.sweepLeftovers().map { "removed \(store.home)/\($0), left by a killed pull or commit" }
      let cleared = try store.clearUnsafeModes()
      if cleared > 0 {
        lines.append(
          "cleared setuid, setgid, sticky and world-write bits from \(cleared) files and directories in \(store.home)/layers, "
            + "unpacked by an older boxwalk")
      }
      return lines
    } catch {
      return ["cannot tidy the image store \(store.home): \(error.call): \(Errno(rawValue: error.errno).name)"]
    }
  }
}

import Glibc

/// Layers in use by a box of any session. The store is shared by every session of its owner,
/// and a box's overlay mount reads its lower layers straight from `layers/<diff_id>` for as long
/// as the box lives (overlayfs keeps the directories, not a copy). Another session's `image rm`,
/// `layer rm` or `image prune` would otherwise delete the files under a running box.
///
/// A session marks each layer it mounts with a shared flock(2) on the layer's directory, held by
/// an open descriptor until the box is gone. Removal asks for an exclusive lock without waiting
/// (LOCK_EX|LOCK_NB): EWOULDBLOCK means some session still holds the layer, so it stays. The
/// kernel drops the locks when their holder closes the descriptor or dies (flock(2)), so a
/// killed session leaves no mark behind, and the next prune removes what nothing holds.
extension ImageStore {
  /// Opens each layer directory and takes a shared lock on it, under the store's lock so no
  /// removal can run between finding the directory and holding it. The caller keeps the
  /// descriptors for as long as the layers are mounted, and closes them (`release`) after.
  func hold(_ paths: [String]) throws(SystemCallError) -> [Int32] {
    try locked { () throws(SystemCallError) -> [Int32] in
      var held: [Int32] = []
      for path in paths {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0, flock(fd, LOCK_SH) == 0 else {
          let failure = SystemCallError(call: "flock(\(SmallFiles.quoted(path)), LOCK_SH)", errno: errno)
          if fd >= 0 { close(fd) }
          Self.release(held)
          throw failure
        }
        held.append(fd)
      }
      return held
    }
  }

  static func release(_ held: [Int32]) {
    for fd in held { close(fd) }
  }

  /// Whether a box of some session holds the layer (see above). A directory that cannot be
  /// opened is not held.
  func layerHeld(_ diffID: String) -> Bool {
    let fd = open(layerPath(diffID), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    return flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK
  }
}

import Glibc
import Kernel
import OCI

/// `image rm` and `layer rm` on the real store. The session has already decided what may go
/// (no box and no other image uses it); this only removes, under the store's lock.
extension ImageStore {
  /// Drops `image`'s entry from index.json (written through a new file and rename(2), so a
  /// reader sees the old index or the new), then unlinks its manifest, config and layer blobs
  /// and removes its unpacked layer directories, each only if no remaining image names it (a tag
  /// of the same image keeps them all).
  func remove(_ image: ImageName) throws(SystemCallError) {
    try locked { () throws(SystemCallError) in
      var index = try index()
      guard let descriptor = index.manifest(named: image.full) else {
        throw SystemCallError(call: "index.json has no \(image.full)", errno: ENOENT)
      }
      let (manifest, config) = try manifestAndConfig(descriptor.digest)
      index.manifests.removeAll { $0.annotation(Annotation.refName) == image.full }
      try layout.writeIndex(index)
      removeUnreferenced(
        blobs: [descriptor.digest, manifest.config.digest] + manifest.layers.map(\.digest), layers: config.diffIDs)
    }
  }

  /// Removes the unpacked directory of the layer called `name`, if no image names it. In this
  /// store a layer is known through the images that name it, so one that none names is already
  /// out of the catalog; this is for a layer directory a session still lists.
  func removeLayer(_ name: String) throws(SystemCallError) {
    try locked { () throws(SystemCallError) in
      guard let layer = try catalog().layers.first(where: { $0.name == name }) else {
        throw SystemCallError(call: "no layer named \(name)", errno: ENOENT)
      }
      removeUnreferenced(blobs: [layer.blob.digest], layers: [layer.diffID])
    }
  }
}

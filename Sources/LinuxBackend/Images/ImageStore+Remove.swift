import Glibc
import Kernel
import OCI

/// `image rm` and `layer rm` on the real store. The session has already decided what may go
/// (no box and no other image uses it); this only removes, under the store's lock.
extension ImageStore {
  /// `image rm`'s first entry: drops `image`'s entry from index.json (written through a new file
  /// and rename(2), so a reader sees the old index or the new). Returns the blobs it named (its
  /// manifest, config and layer blobs), for the next entry to unlink where no remaining image
  /// names them (a tag of the same image keeps them all), and the diff_ids of its layers.
  func forget(_ image: ImageName) throws(SystemCallError) -> (blobs: [String], diffIDs: [String]) {
    try locked { () throws(SystemCallError) -> (blobs: [String], diffIDs: [String]) in
      var index = try index()
      guard let descriptor = index.manifest(named: image.full) else {
        throw SystemCallError(call: "index.json has no \(image.full)", errno: ENOENT)
      }
      let (manifest, config) = try manifestAndConfig(descriptor.digest)
      index.manifests.removeAll { $0.annotation(Annotation.refName) == image.full }
      try layout.writeIndex(index)
      return ([descriptor.digest, manifest.config.digest] + manifest.layers.map(\.digest), config.diffIDs)
    }
  }

  /// Removes the layer that goes by `name`. One an image names has its blob and directory taken
  /// back if no image does any more (the session refuses it before that). One no image names
  /// (unnamedLayers) is only its directory: that goes, unless a box of any session still runs on
  /// it (EBUSY); its blob, which no manifest names now, waits for `image prune`.
  func removeLayer(_ name: String) throws(SystemCallError) {
    try locked { () throws(SystemCallError) in
      let layers = try catalog().layers
      if let layer = layers.first(where: { $0.name == name }) {
        removeUnreferenced(blobs: [layer.blob.digest], layers: [layer.diffID])
        return
      }
      guard let diffID = unnamedLayers(named: layers).first(where: { ImageTransfer.fallbackName($0) == name }) else {
        throw SystemCallError(call: "no layer named \(name)", errno: ENOENT)
      }
      guard !layerHeld(diffID) else { throw SystemCallError(call: ImageTransfer.layerBusy(box: nil), errno: EBUSY) }
      FileTree.remove(layerPath(diffID))
      listingsForget(diffID)
    }
  }
}

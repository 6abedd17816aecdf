/// The layer and image steps: the box's root filesystem (an overlay of layers), its files, and
/// the image store. Everything the Kernel layer knows of them is here (see Step). In the plans,
/// paths the learner cannot know are written in angle brackets: `<web root>` is the box's root
/// directory as the box sees it, `<web upper>` the upper layer directory in the session's scratch
/// space, `<layer app>` a lower layer's directory in boxwalk's image store.
public enum LayerStep: Equatable, Hashable, Sendable {
  /// Mount an overlay of these layers (top first) plus a fresh writable upper layer, as the box's
  /// root filesystem (not entered yet). `names` is what the learner typed (image names or layer
  /// names), `layers` the layers they stand for.
  /// With `plain`, no overlay: the layers' merged files are copied into a plain directory, the
  /// way an image unpacked from `docker export` is one, and that directory is no mount point.
  case overlay(box: String, names: [String], layers: [String], plain: Bool = false)
  /// Write a file in the box's root filesystem, making missing parent directories.
  case writeFile(box: String, path: String, text: String)
  /// Remove a file, or a directory with everything in it, from the box's root filesystem.
  case removeFile(box: String, path: String)
  /// The box's upper layer becomes a new layer, and an image of it on top of the box's layers.
  case commit(box: String, image: ImageName)
  /// A host directory becomes a one-layer image.
  case imageImport(image: ImageName, directory: String)
  /// Give a local image a second name (`docker tag`): the same manifest, another index entry.
  case imageTag(source: ImageName, target: ImageName)
  /// Copy a local image to a registry.
  case imagePush(image: ImageName, ref: RegistryRef)
  /// Copy an image from a registry into the local store.
  case imagePull(ref: RegistryRef)
  /// Remove from the store what no image needs: layers and blobs no image names, and what
  /// killed pulls and commits left half-written.
  case imagePrune
  /// Remove an image's name from the store (`docker image rm`). `layers` are the image's layers
  /// that no other image uses: they go with it, as docker removes an untagged image's layers.
  case imageRemove(image: ImageName, layers: [String])
  /// Remove a layer that no image and no box uses.
  case layerRemove(name: String)

  /// The box the step acts on; nil for the image store's steps.
  public var box: String? {
    switch self {
    case .overlay(let b, _, _, _), .writeFile(let b, _, _), .removeFile(let b, _), .commit(let b, _): b
    case .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune, .imageRemove, .layerRemove: nil
    }
  }

  var owner: Owner { box.map { .box($0) } ?? .labHost }

  var kindName: String {
    switch self {
    case .overlay: "overlay"
    case .writeFile: "write"
    case .removeFile: "rm"
    case .commit: "commit"
    case .imageImport: "image-import"
    case .imageTag: "image-tag"
    case .imagePush: "image-push"
    case .imagePull: "image-pull"
    case .imagePrune: "image-prune"
    case .imageRemove: "image-rm"
    case .layerRemove: "layer-rm"
    }
  }

  func readBack(in facts: KernelFacts) -> ReadBack {
    switch self {
    case .overlay:
      // A new mount: mounts propagate between mount namespaces (mount_namespaces(7)).
      return .all
    case .writeFile(let b, _, _), .removeFile(let b, _):
      // The box's writable layer is its own.
      return ReadBack(boxes: [b])
    case .commit(let b, _):
      // A new layer and image in the store, from the box's files.
      return ReadBack(boxes: [b], host: true, images: true)
    case .imageImport, .imageTag, .imagePush, .imagePull, .imagePrune, .imageRemove, .layerRemove:
      // The store is the host's; no box's layers can be removed while it uses them.
      return ReadBack(host: true, images: true)
    }
  }

  var plan: [SystemCall] {
    switch self {
    case .overlay(let box, _, let layers, true):
      // The copy is made by boxwalk itself, file by file, from the layers' merged view: nothing is
      // mounted, so the directory is not a mount point (pivot_root(2) refuses it as a new root).
      return [.mkdir(path: "<\(box) rootfs>", mode: 0o755), .layer(.copyLayers(box: box, layers: layers))]
    case .overlay(let box, _, let layers, false):
      // One fsconfig(2) call per layer ("lowerdir+", Linux 6.8) instead of one option string:
      // a ',' or ':' in a path can then never inject another option (bubblewrap escapes them).
      return [
        .mkdir(path: "<\(box) upper>", mode: 0o755), .mkdir(path: "<\(box) work>", mode: 0o755),
        .fsopen(fstype: "overlay"),
      ]
        + layers.map { .fsconfig(.setString(key: "lowerdir+", value: "<layer \($0)>")) }
        + [
          .fsconfig(.setString(key: "upperdir", value: "<\(box) upper>")),
          .fsconfig(.setString(key: "workdir", value: "<\(box) work>")), .fsconfig(.create),
          .fsmount(attributes: "MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV"), .moveOverlayRoot(box: box),
        ]
    case .writeFile(let box, let path, let text):
      return [
        .layer(.makeParents(box: box)), .openBeneath(box: box, path: path, .writeFile), .layer(.writeData(text + "\n")),
      ]
    case .removeFile(let box, let path):
      return [
        .openBeneath(box: box, path: Overlay.parent(of: path), .directory),
        .layer(.unlink(name: Overlay.baseName(path))),
      ]
    case .commit(let box, let image):
      return [
        .layer(.walkUpper(box: box)), .layer(.tarUpper), .layer(.storeBlobs), .layer(.renameIndex(.names(image))),
      ]
    case .imageImport(let image, let directory):
      return [.layer(.walkDirectory(directory)), .layer(.tarAndStoreBlobs), .layer(.renameIndex(.names(image)))]
    case .imageTag(let source, let target):
      return [.layer(.renameIndex(.retags(source, as: target)))]
    case .imagePush(_, let ref):
      switch ref.location {
      case .server:
        // OCI distribution spec: "Checking if content exists", "Pushing blobs" (POST then PUT),
        // "Pushing Manifests".
        return [
          .layer(.registryHead(repository: ref.repository)), .layer(.registryUpload(repository: ref.repository)),
          .layer(.registryPutManifest(repository: ref.repository, tag: ref.tag)),
        ]
      case .directory(let dir):
        return [
          .layer(.statBlobs(directory: dir)), .layer(.copyBlobs(directory: dir)),
          .layer(.renameDirectoryIndex(directory: dir, repository: ref.repository, tag: ref.tag)),
        ]
      }
    case .imagePull(let ref):
      switch ref.location {
      case .server:
        return [
          .layer(.registryGetManifest(repository: ref.repository, tag: ref.tag)),
          .layer(.registryGetBlobs(repository: ref.repository)), .layer(.verifyAndUnpack),
        ]
      case .directory(let dir):
        return [
          .layer(.openDirectoryIndex(directory: dir, repository: ref.repository, tag: ref.tag)),
          .layer(.copyFromDirectory(directory: dir)), .layer(.verifyAndUnpack),
        ]
      }
    case .imagePrune:
      return [.layer(.lockStore), .layer(.readIndex), .layer(.deleteUnneeded), .layer(.deleteLeftovers)]
    case .imageRemove(let image, let layers):
      return [.layer(.renameIndex(.forgets(image))), .layer(.unlinkImageBlobs)]
        + layers.map { .layer(.removeImageLayer(name: $0)) }
    case .layerRemove(let name):
      return [.layer(.removeUnusedLayer(name: name))]
    }
  }
}

extension Step {
  /// How file commands reach a path in the box: openat2(2) resolves it beneath the box's root,
  /// the way the box itself would (RESOLVE_IN_ROOT), and follows no symbolic link at all
  /// (RESOLVE_NO_SYMLINKS), so a link planted in a layer can never lead outside it
  /// (docs/security.md).
  public static let resolveFlags = "RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS"

}

extension SystemCall.LayerWork: CustomStringConvertible {
  /// Each entry as one line: the calls it makes, and after `#` what they are for.
  public var description: String {
    let index = "flock(\"<store>\", LOCK_EX), rename(\"index.json.tmp-<pid>-<n>\", \"index.json\")"
    switch self {
    case .copyLayers(let box, let layers):
      return
        "mkdirat(<\(box) rootfs>, ...), openat(<\(box) rootfs>, ..., O_WRONLY|O_CREAT|O_EXCL), write(...), symlinkat(...)   # each file of "
        + layers.map { "<layer \($0)>" }.joined(separator: " over ")
    case .makeParents(let box):
      return "mkdirat(<\(box) root>, PARENT, 0755)   # each missing parent directory, like mkdir -p"
    case .writeData(let data): return "write(fd, \(JSON.quote(data)), \(data.utf8.count))"
    case .unlink(let name):
      return "unlinkat(<parent>, \(JSON.quote(name)), 0)   # a directory: its entries first, then AT_REMOVEDIR"
    case .walkUpper(let box):
      return
        "openat(<\(box) upper>, ...), fstatat(..., AT_SYMLINK_NOFOLLOW), fgetxattr(\"trusted.overlay.opaque\")   # walk the upper layer"
    case .tarUpper: return "a tar of it: a whiteout (char 0:0) becomes .wh.NAME, an opaque directory gets .wh..wh..opq"
    case .storeBlobs: return "gzip, sha256: blobs/sha256/<digest> for the layer, the config and the manifest"
    case .walkDirectory(let directory):
      return
        "openat(\(JSON.quote(directory)), ...), fstatat(..., AT_SYMLINK_NOFOLLOW), read   # walk it, following no link"
    case .tarAndStoreBlobs:
      return "a tar of it, gzip, sha256: blobs/sha256/<digest> for the layer, the config and the manifest"
    case .renameIndex(.names(let image)): return "\(index)   # the store now names \(image.full)"
    case .renameIndex(.retags(let source, let target)):
      return "\(index)   # \(target.full) names the manifest \(source.full) names"
    case .renameIndex(.forgets(let image)): return "\(index)   # the store no longer names \(image.full)"
    case .registryHead(let repository):
      return "HEAD /v2/\(repository)/blobs/<digest>   # each layer and the config: there already?"
    case .registryUpload(let repository):
      return "POST /v2/\(repository)/blobs/uploads/, then PUT <location>?digest=<digest>   # each one missing"
    case .registryPutManifest(let repository, let tag): return "PUT /v2/\(repository)/manifests/\(tag)"
    case .statBlobs(let dir):
      return "stat(\"<oci:\(dir)>/blobs/sha256/<digest>\")   # each layer and the config: there already?"
    case .copyBlobs(let dir): return "copy each missing blob into <oci:\(dir)>/blobs/sha256/"
    case .renameDirectoryIndex(let dir, let repository, let tag):
      return
        "rename(\"<oci:\(dir)>/index.json.tmp-<pid>-<n>\", \"<oci:\(dir)>/index.json\")   # tag \(repository):\(tag)"
    case .registryGetManifest(let repository, let tag): return "GET /v2/\(repository)/manifests/\(tag)"
    case .registryGetBlobs(let repository):
      return "GET /v2/\(repository)/blobs/<digest>   # the config, then each layer this host lacks"
    case .openDirectoryIndex(let dir, let repository, let tag):
      return "open(\"<oci:\(dir)>/index.json\")   # find \(repository):\(tag), then its manifest"
    case .copyFromDirectory(let dir):
      return "copy the config and each layer this host lacks from <oci:\(dir)>/blobs/sha256/"
    case .verifyAndUnpack: return "check every sha256, unpack each new layer tar into <layer NAME>"
    case .lockStore: return "flock(\"<store>\", LOCK_EX)   # no tag, commit or import meanwhile"
    case .readIndex: return "open(\"index.json\"), then each manifest and config it names   # what the images need"
    case .deleteUnneeded:
      return "unlink(\"blobs/sha256/<digest>\"), rm -r \"layers/<diff_id>\"   # each one no image needs"
    case .deleteLeftovers:
      return
        "unlink(\"*.tmp-PID-N\"), rm -r \"layers/*.partial-PID\"   # left by a killed pull or commit whose PID is gone"
    case .unlinkImageBlobs:
      return
        "unlink(\"blobs/sha256/<digest>\")   # its manifest, config and layer blobs, unless another image names them"
    case .removeImageLayer(let name): return "rm -r \"<layer \(name)>\"   # no other image uses it"
    case .removeUnusedLayer(let name):
      return "flock(\"<store>\", LOCK_EX), rm -r \"<layer \(name)>\"   # no image names it"
    }
  }
}

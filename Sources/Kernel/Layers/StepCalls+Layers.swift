/// The calls of the layer and image steps (see StepCalls.swift for the convention). Paths the
/// learner cannot know are written in angle brackets: `<web root>` is the box's root directory as
/// the box sees it, `<web upper>` the upper layer directory in the session's scratch space,
/// `<layer app>` a lower layer's directory in boxwalk's image store.
extension Step {
  /// How file commands reach a path in the box: openat2(2) resolves it beneath the box's root,
  /// the way the box itself would (RESOLVE_IN_ROOT), and follows no symbolic link at all
  /// (RESOLVE_NO_SYMLINKS), so a link planted in a layer can never lead outside it
  /// (docs/security.md).
  public static let resolveFlags = "RESOLVE_IN_ROOT|RESOLVE_NO_SYMLINKS"

  public static func openCall(_ box: String, _ path: String, _ flags: String) -> String {
    "openat2(<\(box) root>, \(JSON.quote(path)), \(flags), \(resolveFlags))"
  }

  var layerCalls: [String] {
    switch self {
    case .overlay(let box, _, let layers, true):
      // The copy is made by boxwalk itself, file by file, from the layers' merged view: nothing is
      // mounted, so the directory is not a mount point (pivot_root(2) refuses it as a new root).
      return [
        "mkdir(\"<\(box) rootfs>\", 0755)",
        "mkdirat(<\(box) rootfs>, ...), openat(<\(box) rootfs>, ..., O_WRONLY|O_CREAT|O_EXCL), write(...), symlinkat(...)   # each file of "
          + layers.map { "<layer \($0)>" }.joined(separator: " over "),
      ]
    case .overlay(let box, _, let layers, false):
      // One fsconfig(2) call per layer ("lowerdir+", Linux 6.8) instead of one option string:
      // a ',' or ':' in a path can then never inject another option (bubblewrap escapes them).
      return [
        "mkdir(\"<\(box) upper>\", 0755)", "mkdir(\"<\(box) work>\", 0755)", "fsopen(\"overlay\", FSOPEN_CLOEXEC)",
      ]
        + layers.map { "fsconfig(FSCONFIG_SET_STRING, \"lowerdir+\", \"<layer \($0)>\")" }
        + [
          "fsconfig(FSCONFIG_SET_STRING, \"upperdir\", \"<\(box) upper>\")",
          "fsconfig(FSCONFIG_SET_STRING, \"workdir\", \"<\(box) work>\")", "fsconfig(FSCONFIG_CMD_CREATE)",
          "fsmount(MOUNT_ATTR_NOSUID|MOUNT_ATTR_NODEV)", "move_mount(\"<\(box) rootfs>\")",
        ]
    case .writeFile(let box, let path, let text):
      let data = text + "\n"
      return [
        "mkdirat(<\(box) root>, PARENT, 0755)   # each missing parent directory, like mkdir -p",
        Self.openCall(box, path, "O_WRONLY|O_CREAT|O_TRUNC, 0644"),
        "write(fd, \(JSON.quote(data)), \(data.utf8.count))",
      ]
    case .removeFile(let box, let path):
      return [
        Self.openCall(box, Overlay.parent(of: path), "O_PATH|O_DIRECTORY"),
        "unlinkat(<parent>, \(JSON.quote(Overlay.baseName(path))), 0)   # a directory: its entries first, then AT_REMOVEDIR",
      ]
    case .commit(let box, let image):
      return [
        "openat(<\(box) upper>, ...), fstatat(..., AT_SYMLINK_NOFOLLOW), fgetxattr(\"trusted.overlay.opaque\")   # walk the upper layer",
        "a tar of it: a whiteout (char 0:0) becomes .wh.NAME, an opaque directory gets .wh..wh..opq",
        "gzip, sha256: blobs/sha256/<digest> for the layer, the config and the manifest",
        "flock(\"<store>\", LOCK_EX), rename(\"index.json.tmp-<pid>-<n>\", \"index.json\")   # the store now names \(image.full)",
      ]
    case .imageImport(let image, let directory):
      return [
        "openat(\(JSON.quote(directory)), ...), fstatat(..., AT_SYMLINK_NOFOLLOW), read   # walk it, following no link",
        "a tar of it, gzip, sha256: blobs/sha256/<digest> for the layer, the config and the manifest",
        "flock(\"<store>\", LOCK_EX), rename(\"index.json.tmp-<pid>-<n>\", \"index.json\")   # the store now names \(image.full)",
      ]
    case .imageTag(let source, let target):
      return [
        "flock(\"<store>\", LOCK_EX), rename(\"index.json.tmp-<pid>-<n>\", \"index.json\")   # \(target.full) names the manifest \(source.full) names"
      ]
    case .imagePush(_, let ref):
      switch ref.location {
      case .server:
        // OCI distribution spec: "Checking if content exists", "Pushing blobs" (POST then PUT),
        // "Pushing Manifests".
        return [
          "HEAD /v2/\(ref.repository)/blobs/<digest>   # each layer and the config: there already?",
          "POST /v2/\(ref.repository)/blobs/uploads/, then PUT <location>?digest=<digest>   # each one missing",
          "PUT /v2/\(ref.repository)/manifests/\(ref.tag)",
        ]
      case .directory(let dir):
        return [
          "stat(\"<oci:\(dir)>/blobs/sha256/<digest>\")   # each layer and the config: there already?",
          "copy each missing blob into <oci:\(dir)>/blobs/sha256/",
          "rename(\"<oci:\(dir)>/index.json.tmp-<pid>-<n>\", \"<oci:\(dir)>/index.json\")   # tag \(ref.repository):\(ref.tag)",
        ]
      }
    case .imagePull(let ref):
      switch ref.location {
      case .server:
        return [
          "GET /v2/\(ref.repository)/manifests/\(ref.tag)",
          "GET /v2/\(ref.repository)/blobs/<digest>   # the config, then each layer this host lacks",
          "check every sha256, unpack each new layer tar into <layer NAME>",
        ]
      case .directory(let dir):
        return [
          "open(\"<oci:\(dir)>/index.json\")   # find \(ref.repository):\(ref.tag), then its manifest",
          "copy the config and each layer this host lacks from <oci:\(dir)>/blobs/sha256/",
          "check every sha256, unpack each new layer tar into <layer NAME>",
        ]
      }
    case .imagePrune:
      return [
        "flock(\"<store>\", LOCK_EX)   # no tag, commit or import meanwhile",
        "open(\"index.json\"), then each manifest and config it names   # what the images need",
        "unlink(\"blobs/sha256/<digest>\"), rm -r \"layers/<diff_id>\"   # each one no image needs",
        "unlink(\"*.tmp-PID-N\"), rm -r \"layers/*.partial-PID\"   # left by a killed pull or commit whose PID is gone",
      ]
    case .imageRemove(let image, let layers):
      return [
        "flock(\"<store>\", LOCK_EX), rename(\"index.json.tmp-<pid>-<n>\", \"index.json\")   # the store no longer names \(image.full)",
        "unlink(\"blobs/sha256/<digest>\")   # its manifest, config and layer blobs, unless another image names them",
      ] + layers.map { "rm -r \"<layer \($0)>\"   # no other image uses it" }
    case .layerRemove(let name):
      return ["flock(\"<store>\", LOCK_EX), rm -r \"<layer \(name)>\"   # no image names it"]
    default:
      return []
    }
  }

  /// Which of the step's calls a failure to open or create the file belongs to.
  public static let fileOpenCallIndex = 1
}

import Kernel

/// Shell equivalents and explanations of the layer and image steps.
extension StepText {
  static func layerShell(_ step: LayerStep) -> String {
    switch step {
    case .overlay(let box, _, _, true):
      return "mkdir <\(box) rootfs> && docker export $(docker create IMAGE) | tar -x -C <\(box) rootfs>"
    case .overlay(let box, _, let layers, false):
      let lower = layers.map { "<layer \($0)>" }.joined(separator: ":")
      return
        "mkdir <\(box) upper> <\(box) work> && nsenter --target <\(box)> --mount mount -t overlay overlay -o nosuid,nodev,lowerdir=\(lower),upperdir=<\(box) upper>,workdir=<\(box) work> <\(box) rootfs>"
    case .writeFile(let box, let path, let text):
      return
        "mkdir -p <\(box) root>\(ShellWord.quote(Overlay.parent(of: path))) && echo \(ShellWord.quote(text)) > <\(box) root>\(ShellWord.quote(path))"
    case .removeFile(let box, let path):
      return "rm -r <\(box) root>\(ShellWord.quote(path))"
    case .commit(let box, let image):
      return
        "docker commit <\(box)> \(image)   # by hand: tar -C <\(box) upper> -c . (whiteouts as .wh. files) | gzip, then sha256sum"
    case .imageImport(let image, let directory):
      return
        "tar -C \(ShellWord.quote(directory)) --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -c . | gzip | docker import - \(image)"
    case .imageTag(let source, let target):
      return "docker tag \(source) \(target)"
    case .imagePush(let image, let ref):
      return "skopeo copy oci:<store>:\(image.full) " + transport(ref)
    case .imagePull(let ref):
      return "skopeo copy " + transport(ref) + " oci:<store>:\(ref.localName.full)"
    case .imagePrune:
      return "docker image prune -a   # by hand: keep what index.json reaches, rm the other blobs/sha256/* and layers/*"
    case .imageRemove(let image, _):
      return "docker image rm \(image)   # by hand: drop its entry from index.json, then prune"
    case .layerRemove(let name):
      return "rm -r <layer \(name)>   # docker has no command for one layer: image rm and prune remove them"
    }
  }

  /// How skopeo(1) names the same place.
  static func transport(_ ref: RegistryRef) -> String {
    switch ref.location {
    case .server(let host, let port): "--dest-tls-verify=false docker://\(host):\(port)/\(ref.repository):\(ref.tag)"
    case .directory(let dir): "oci:<\(dir) registry>:\(ref.repository):\(ref.tag)"
    }
  }

  static func layerWhy(_ step: LayerStep) -> [String] {
    switch step {
    case .overlay(_, _, _, true):
      return [
        "A plain directory holding the image's files, as `docker export | tar -x` leaves them: no",
        "overlay, no layers, and no mount. pivot_root(2) wants its new root to be a mount point, and",
        "this directory is not one (EINVAL); a bind mount of it onto itself makes it one, which is",
        "what runc does to every container's root (`mount --rbind rootfs rootfs`).",
      ]
    case .overlay:
      return [
        "overlayfs stacks read-only lower directories, the first on top, under one writable upper",
        "directory, and shows their union. Reading finds the topmost copy of a file; a write copies",
        "the file up into the upper layer first, so the lower layers never change and many boxes can",
        "share them. This is how Docker's overlay2 driver builds a container's root filesystem.",
        "Each layer is given with its own fsconfig(2) call, so no path can inject a mount option.",
        "See Documentation/filesystems/overlayfs.rst.",
      ]
    case .writeFile:
      return [
        "Opening a lower file for writing makes overlayfs copy it up: the file and every directory",
        "above it are copied into the upper layer, then changed there. A new file goes straight into",
        "the upper layer; a new directory where a whiteout was becomes opaque, hiding what the lower",
        "layers have beneath it (overlayfs.rst, \"whiteouts and opaque directories\").",
      ]
    case .removeFile:
      return [
        "A lower layer cannot change, so removing a file that a lower layer has leaves a whiteout in",
        "the upper layer: a character device with device number 0/0 that hides the name. A file only",
        "in the upper layer is simply removed. A directory goes entry by entry, then becomes a whiteout.",
      ]
    case .commit:
      return [
        "An image is a stack of layers; a container adds a writable one, and `docker commit` turns",
        "it into a new layer: a tar of the upper directory. The tar uses the OCI form of whiteouts",
        "(.wh.NAME, and .wh..wh..opq for an opaque directory) because a tar of device nodes would not",
        "travel. boxwalk writes it reproducibly (sorted, mtime 0, uid 0), so the same change gives the",
        "same sha256 everywhere: the layer's diff_id. OCI image spec, layer.md.",
      ]
    case .imageImport:
      return [
        "A directory becomes a layer tar, gzip-compressed; the image's config lists the tar's sha256",
        "(its diff_id) and the manifest the compressed blob's digest, size and media type. All three",
        "are blobs in the OCI image layout, named by their sha256 (image-layout.md).",
      ]
    case .imageTag:
      return [
        "A tag is a name for a manifest. The image layout's index.json lists each manifest with its",
        "name (org.opencontainers.image.ref.name); tagging adds a line, and copies no layer.",
      ]
    case .imagePush, .imagePull:
      return [
        "A registry stores blobs by digest and manifests by tag. Push asks for each blob first (HEAD),",
        "uploads only the missing ones (POST, then PUT with ?digest=), and puts the manifest last,",
        "under its tag. Pull reads the manifest, then fetches only the layers this host lacks, and",
        "checks every sha256. OCI distribution spec; a directory registry is an OCI image layout.",
      ]
    case .imagePrune:
      return [
        "An image is only a manifest that names its layers, and layers are shared, so a layer no image",
        "names any more (its image was pulled again under the same name, say) stays behind, taking",
        "space. A pull or commit killed half-way leaves a temporary too: blobs and layers are written",
        "under a temporary name and renamed into place, so no reader ever sees half of one. Pruning",
        "keeps everything index.json reaches and removes the rest, as docker image prune -a does.",
      ]
    case .imageRemove, .layerRemove:
      return [
        "An image is a name in index.json for a manifest, which names its layers; layers are shared",
        "between images. Removing an image drops its name, and the layers no other image names go",
        "with it. A layer a box's overlay is built on cannot go while the box lives (overlayfs reads",
        "it), nor a layer another image is built on: that image would lose its bottom layers.",
      ]
    }
  }

  /// What an errno means for a layer step, when there is something specific to teach (StepText.errnoHint).
  static func layerErrnoHint(_ step: LayerStep, _ errno: Errno, detail: String?) -> String? {
    switch (step, errno) {
    case (.writeFile, .ELOOP), (.removeFile, .ELOOP):
      return "file commands follow no symbolic link (RESOLVE_NO_SYMLINKS): a link in a layer could point anywhere"
    case (.writeFile, .EISDIR):
      return "that path is a directory"
    case (.imagePush, .ECONNREFUSED), (.imagePull, .ECONNREFUSED):
      return "no registry listens there; start one (Debian's docker-registry) or use a directory registry, oci:NAME/..."
    default:
      return nil
    }
  }
}

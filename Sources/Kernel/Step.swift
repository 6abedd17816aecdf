/// One learner action that changes kernel state, as a value (STYLE 5). Both kernels take the same
/// steps; tests compare whole step sequences. Reading commands (`show`, `ns`, `state`) are not
/// steps: they only read the state tree.
public enum Step: Equatable, Hashable, Sendable {
  /// Start the process that will hold a new box's namespaces. It shares every host namespace.
  case boxNew(box: String)
  /// Kill a box's processes; namespaces nobody else uses die with them.
  case boxRemove(box: String)
  /// unshare(2): move the box into new namespaces of these kinds.
  case unshare(box: String, kinds: [NamespaceKind])
  /// setns(2): move the box into `target`'s namespace of this kind.
  case join(box: String, kind: NamespaceKind, target: String)
  /// sethostname(2) inside the box's UTS namespace.
  case setHostname(box: String, name: String)
  /// setdomainname(2) inside the box's UTS namespace.
  case setDomainname(box: String, name: String)
  /// fork(2) + execvp(3) a program in the box; in the foreground boxwalk waits for it (wait4(2)).
  case run(box: String, argv: [String], background: Bool)
  /// kill(2) a box process, named by its PID as the box sees it, with SIGKILL.
  case kill(box: String, pid: Int)
  /// mount(2) in the box's mount namespace; paths are inside the box's root filesystem.
  case mount(box: String, request: MountRequest)
  /// umount2(2) in the box's mount namespace.
  case umount(box: String, path: String)
  /// mount(2) with MS_REC and a propagation flag on the box's "/" (mount_namespaces(7)).
  case propagation(box: String, mode: Propagation)
  /// Prepare a root filesystem for the box from an image (a private copy in the session scratch).
  case rootfs(box: String, image: String)
  /// pivot_root(2) into the box's root filesystem, then detach the old root.
  case pivotRoot(box: String)
  /// chroot(2) into the box's root filesystem (for contrast with pivot_root).
  case chroot(box: String)
  /// msgget(2) / shmget(2) / semget(2) with IPC_CREAT|IPC_EXCL in the box's IPC namespace.
  case ipcNew(box: String, kind: IPCKind, key: Int32)
  /// Mount an overlay of these layers (top first) plus a fresh writable upper layer, as the box's
  /// root filesystem (not entered yet). `names` is what the learner typed; see Step+Layers.swift.
  case overlay(box: String, names: [String], layers: [String])
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

  /// The box the step acts on.
  public var box: String {
    switch self {
    case .boxNew(let b), .boxRemove(let b), .unshare(let b, _), .join(let b, _, _),
      .setHostname(let b, _), .setDomainname(let b, _), .run(let b, _, _), .kill(let b, _),
      .mount(let b, _), .umount(let b, _), .propagation(let b, _), .rootfs(let b, _), .pivotRoot(let b),
      .chroot(let b), .ipcNew(let b, _, _), .overlay(let b, _, _), .writeFile(let b, _, _), .removeFile(let b, _),
      .commit(let b, _):
      b
    case .imageImport, .imageTag, .imagePush, .imagePull: Self.hostBox
    }
  }

  /// A short kind name, for fault injection and error messages ("unshare", "sethostname").
  public var kindName: String {
    switch self {
    case .boxNew: "box-new"
    case .boxRemove: "box-rm"
    case .unshare: "unshare"
    case .join: "setns"
    case .setHostname: "sethostname"
    case .setDomainname: "setdomainname"
    case .run: "run"
    case .kill: "kill"
    case .mount: "mount"
    case .umount: "umount"
    case .propagation: "propagation"
    case .rootfs: "rootfs"
    case .pivotRoot: "pivot_root"
    case .chroot: "chroot"
    case .ipcNew: "ipc"
    case .overlay: "overlay"
    case .writeFile: "write"
    case .removeFile: "rm"
    case .commit: "commit"
    case .imageImport: "image-import"
    case .imageTag: "image-tag"
    case .imagePush: "image-push"
    case .imagePull: "image-pull"
    }
  }

  /// What `box` is for steps on the host's image store rather than a box.
  public static let hostBox = "host"

  /// Whether the step acts on the image store, not on a box.
  public var isImageStep: Bool {
    switch self {
    case .imageImport, .imageTag, .imagePush, .imagePull: true
    default: false
    }
  }
}

/// The combined flags of several namespace kinds, printed the way strace does: `CLONE_NEWUTS|CLONE_NEWIPC`.
public func cloneFlagsDescription(_ kinds: [NamespaceKind]) -> String {
  kinds.map(\.cloneFlagName).joined(separator: "|")
}

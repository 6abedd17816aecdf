import Glibc
import Kernel

extension LinuxKernel {
  /// `box export`: the box's root as the REPL reaches it (/proc/HELPER/root, or the prepared
  /// root's anchored path: `boxRoot`), read whole on its own file system, then written out as a
  /// bundle (HostBundle). Reading and writing are file operations of the REPL itself, like the
  /// file commands (BoxFiles).
  public func exportBundle(box: String, directory: String, config: [UInt8]) throws(KernelError) {
    let call = BundleCalls.call(box: box, directory: directory)
    guard let root = boxRoot(box) else {
      throw KernelError(call: call, errno: .ENOENT, detail: "the box has no root filesystem")
    }
    let rootfs: LayerContents
    do {
      // "/.": /proc/PID/root is a magic link, which the reader's O_NOFOLLOW refuses at the end
      // of a path; as a path's middle it leads into the box's mount namespace.
      rootfs = try LayerDirectory.read(
        root + "/.", .init(contents: true, overlayMarks: false, maxBytes: HostBundle.maxBytes, oneFileSystem: true))
    } catch {
      throw KernelError(
        call: error.call, errno: Errno(rawValue: error.errno), detail: "reading \(box)'s root filesystem")
    }
    try HostBundle.write(directory: directory, config: config, rootfs: rootfs)
  }

  /// DIR/config.json, read as any small file boxwalk reads (SmallFiles.read: a regular file, no
  /// symbolic link as its last name, a size limit).
  public func readBundleConfig(directory: String) throws(KernelError) -> [UInt8] {
    do {
      return try SmallFiles.read(directory + "/config.json")
    } catch {
      throw KernelError(
        call: BundleCalls.readConfig(directory), errno: Errno(rawValue: error.errno), detail: error.call)
    }
  }
}

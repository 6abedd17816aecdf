import Glibc
import Kernel

/// Where images live (SPEC §9): /var/lib/boxwalk as root, or $BOXWALK_HOME. For now an image is a
/// directory tree, `images/NAME/rootfs`; the layering issue turns it into OCI layers.
struct ImageStore {
  let home: String

  init(home: String? = nil) {
    if let home {
      self.home = home
    } else if let env = getenv("BOXWALK_HOME"), env.pointee != 0 {
      self.home = String(cString: env)
    } else {
      self.home = "/var/lib/boxwalk"
    }
  }

  /// Applets linked in the busybox image: enough for the lessons (sh, ps, mount, ...). Each is a
  /// relative symbolic link to busybox, which picks the applet by the name it was run as.
  static let applets = [
    "sh", "ash", "echo", "cat", "ls", "ps", "mount", "umount", "sleep", "hostname", "true", "false", "id",
    "mkdir", "rm", "rmdir", "touch", "env", "pwd", "uname", "kill", "grep", "head", "tail", "wc", "ln", "cp", "mv",
    "chmod", "date", "df", "du", "find", "ip", "ping", "top", "free", "stat", "test", "[", "which", "whoami",
    "chroot", "pivot_root", "nsenter", "unshare", "ipcs", "ipcrm", "readlink", "realpath", "sed", "awk", "tr", "yes",
  ]

  /// The busybox image's root, built from busybox-static on first use: the directories of
  /// `BusyboxImage`, bin/busybox and its applet links, and a minimal /etc.
  func busyboxRoot(busybox: String = "/bin/busybox") throws(SystemCallError) -> String {
    let image = home + "/images/" + BusyboxImage.name
    let root = image + "/rootfs"
    var st = stat()
    if stat(root + "/bin/busybox", &st) == 0 { return root }
    guard access(busybox, X_OK) == 0 else {
      throw SystemCallError(call: "access(\(SmallFiles.quoted(busybox)), X_OK)", errno: errno)
    }
    // Build beside, then rename(2) into place: a crash never leaves half an image behind.
    let building = image + ".building-\(getpid())"
    try makeDirectories(home + "/images")
    FileTree.remove(building)
    try makeDirectories(building + "/rootfs")
    for dir in BusyboxImage.directories { try makeDirectories(building + "/rootfs/" + dir) }
    try FileTree.copyFile(busybox, to: building + "/rootfs/bin/busybox", mode: 0o755)
    for applet in Self.applets where applet != "busybox" {
      _ = symlink("busybox", building + "/rootfs/bin/" + applet)
    }
    try SmallFiles.replace(building + "/rootfs/etc/passwd", with: "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")
    try SmallFiles.replace(building + "/rootfs/etc/group", with: "root:x:0:\nnogroup:x:65534:\n")
    try SmallFiles.replace(building + "/rootfs/etc/hostname", with: "busybox\n")
    FileTree.remove(image)
    guard rename(building, image) == 0 else {
      throw SystemCallError(call: "rename(\(SmallFiles.quoted(building)))", errno: errno)
    }
    return root
  }

  private func makeDirectories(_ path: String) throws(SystemCallError) {
    var prefix = ""
    for part in path.split(separator: "/") {
      prefix += "/" + part
      if mkdir(prefix, 0o755) != 0 && errno != EEXIST {
        throw SystemCallError(call: "mkdir(\(SmallFiles.quoted(prefix)))", errno: errno)
      }
    }
  }
}

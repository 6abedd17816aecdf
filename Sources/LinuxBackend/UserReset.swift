import Glibc
import Kernel

/// `boxwalk reset --all`: what it removes that only the backend knows how to find and remove
/// safely (docs/security.md, "Where sessions live"). The sessions left behind are removed by
/// `LedgerCleanup`, which never touches a session whose process still runs.
public enum UserReset {
  /// The image store the calling user's sessions use: $BOXWALK_HOME, else /var/lib/boxwalk for
  /// root (the real backend), else the rootless backend's store in $XDG_DATA_HOME.
  public static func imageStoreHome() -> String {
    ImageStore(home: geteuid() == 0 ? nil : LinuxKernel.rootlessImageHome()).home
  }

  /// rm -r of one of the user's own directories or files, never following a symbolic link and
  /// never leaving the file system it starts on. Whether anything was there.
  @discardableResult
  public static func remove(_ path: String) -> Bool {
    var st = stat()
    guard lstat(path, &st) == 0 else { return false }
    FileTree.remove(path)
    return true
  }

  /// Removes the image store, under its flock(2) so no session of this user pulls, commits or
  /// tags meanwhile (they take the same lock). The caller checked that no session is running:
  /// a running box's overlay has its lower layers in the store. One line saying what was done.
  public static func removeImageStore() -> String {
    let store = ImageStore(home: geteuid() == 0 ? nil : LinuxKernel.rootlessImageHome())
    var st = stat()
    guard lstat(store.home, &st) == 0 else { return "no image store at \(store.home): nothing to remove" }
    do {
      try store.locked { () throws(SystemCallError) in
        // The contents, then the directory: the lock is a descriptor on the directory itself.
        for name in (try? SmallFiles.list(store.home)) ?? [] { FileTree.remove(store.home + "/" + name) }
      }
    } catch {
      return "could not remove the image store \(store.home): \(error.call): \(Errno(rawValue: error.errno).name)"
    }
    rmdir(store.home)
    return "removed the image store \(store.home) (the busybox image is built again at first use)"
  }
}

/// `box export NAME DIR` (docs/runtimes.md): what both kernels do to write an OCI runtime
/// bundle, and how the step shows it. The config.json is the Lab's (a pure function of the
/// facts); the kernel makes DIR, writes the document there and copies the box's root filesystem,
/// merged, as the box's processes see it, into DIR/rootfs.
public enum BundleCalls {
  /// The calls, as the step's `syscall` lines show them.
  public static func plan(box: String, directory: String) -> [String] {
    let dir = JSON.quote(directory)
    return [
      "mkdir(\(dir), 0700)   # or an empty directory of the caller's, opened O_DIRECTORY|O_NOFOLLOW",
      "openat(<\(box) root>, O_DIRECTORY|O_NOFOLLOW)   # /proc/<\(box)>/root: the merged overlay as \(box) sees it",
      "openat2(..., RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS) + read(2) per entry   # one file system: no mount below it",
      "mkdirat(\(dir), \"rootfs\") + mkdirat/openat(O_CREAT|O_EXCL|O_NOFOLLOW)/write/symlinkat per entry",
      "openat(\(dir), \"config.json\", O_WRONLY|O_CREAT|O_EXCL|O_NOFOLLOW, 0644) + write(2)",
    ]
  }

  /// The call that reads a bundle's config.json for `box import-bundle`.
  public static func readConfig(_ directory: String) -> String {
    "open(\(JSON.quote(directory + "/config.json")), O_RDONLY|O_NOFOLLOW) + read(2)"
  }

  /// The call an error names.
  public static func call(box: String, directory: String) -> String {
    "export(\(JSON.quote(box)), \(JSON.quote(directory)))"
  }
}

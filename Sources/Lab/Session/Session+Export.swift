import Kernel

extension Session {
  /// `box export NAME DIR`: the box's config.json from the facts (BundleConfig), then the kernel
  /// makes DIR and copies the root filesystem (Kernel.exportBundle). No namespace or mount of the
  /// lab changes, so there is no diff: the output is the calls, the shell line and what the
  /// document says.
  func exportCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("box export", args, 2)
    let name = try existingBox(args[0])
    let dir = try bundleDirectory(
      args[1], "box export", does: "writes", fix: "box export \(name) /tmp/\(name)-bundle")
    let made: BundleConfig.Made
    do {
      made = try BundleConfig.make(box: name, facts: facts)
    } catch {
      throw LabError("cannot export \(name): \(error.reason)", [("fix", error.fix), LabError.unchanged])
    }
    do {
      try kernel.exportBundle(box: name, directory: dir, config: made.json)
    } catch {
      var details: [(String, String)] = [("command", escapedForTerminal(line))]
      if let detail = error.detail { details.append(("detail", detail)) }
      details.append(("meaning", "\(error.errno.name): \(error.errno.meaning)"))
      // A detail says the box's files were being read; without one, DIR was being written.
      switch error.errno {
      case _ where error.detail != nil && error.errno != .EINVAL: break
      case .EEXIST: details.append(("fix", "name a directory that does not exist yet (or an empty one)"))
      case .ELOOP, .ENOTDIR:
        details.append(("fix", "DIR must be a directory, not a symbolic link or a file: name a new one"))
      case .EINVAL: details.append(("fix", "rm the fifo, socket or device node from \(name)'s root filesystem first"))
      default: break
      }
      details.append(("state", "nothing of \(escapedForTerminal(dir)) is left but what was there before"))
      throw LabError(escapedForTerminal(error.call) + ": " + error.errno.name, details, errno: error.errno)
    }
    out.lines.append(
      "exported \(name) as an OCI runtime bundle in \(escapedForTerminal(dir)): config.json, and rootfs/ "
        + "(a copy of its root filesystem, merged, as \(name) sees it)")
    out.lines += BundleCalls.plan(box: name, directory: dir).map { "  syscall  " + escapedForTerminal($0) }
    // The shell line that does the same, its directory quoted as every shell line's words are.
    let quoted = ShellWord.quote(dir)
    out.lines.append(
      "  shell    "
        + escapedForTerminal(
          "mkdir -m 0700 \(quoted) && cp -a --one-file-system /proc/<\(name)>/root/. \(quoted)/rootfs && cat > \(quoted)/config.json"
        ))
    out.lines += made.summary.map { "  config   " + escapedForTerminal($0) }
    out.lines.append("  run it   crun run --bundle \(escapedForTerminal(dir)) \(name) (as root; docs/runtimes.md)")
  }

  /// A bundle's DIR for `box export` and `box import-bundle`: absolute, not "/", with no "." or
  /// ".." in it, since the kernel that reads or writes it (a daemon's, say) may not share this
  /// shell's directory; a trailing "/" is dropped.
  func bundleDirectory(_ directory: String, _ command: String, does verb: String, fix: String) throws -> String {
    let parts = directory.split(separator: "/", omittingEmptySubsequences: false)
    guard directory.hasPrefix("/"), directory != "/", !parts.dropFirst().contains(where: { $0 == "." || $0 == ".." })
    else {
      throw LabError(
        "\(command) needs a clean absolute directory: the kernel that \(verb) it may not share this shell's directory",
        [("got", escapedForTerminal(directory)), ("fix", fix), LabError.unchanged])
    }
    return parts.last == "" ? String(directory.dropLast()) : directory
  }
}

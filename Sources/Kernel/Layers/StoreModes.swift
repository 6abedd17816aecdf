/// The permission bits a layer keeps in boxwalk's image store (docs/security.md, "The image
/// store"). The store is readable by everyone: overlayfs reads lower layers with the mounter's
/// credentials, and a rootless session's user namespace must reach them. So a layer's files are
/// files any local user can run, and the bits that let a file act with its owner's rights are
/// cleared on the way in, by import, commit and pull alike:
///
/// - S_ISUID and S_ISGID (04000, 02000): an executable with them runs as its owner or group
///   (execve(2)). Layers are unpacked as root, so a setuid file in a layer is a root shell for
///   whoever can reach the store (inode(7)).
/// - the write bit for others (0002): anyone could change what every later box runs.
/// - S_ISVTX (01000): only meaningful on a directory others can write, which the store has none of.
///
/// Symbolic links keep their 0777: their mode means nothing (symlink(7)), and it is part of the
/// layer's tar, so of its digest. Both kernels apply the same rule before a layer's digest is
/// computed, so the simulator and the real backend still agree on every diff_id.
public enum StoreModes {
  /// S_ISUID | S_ISGID | S_ISVTX | S_IWOTH.
  public static let cleared: UInt32 = 0o7002

  public static func safe(_ mode: UInt32) -> UInt32 { mode & ~cleared }
}

extension LayerContents {
  /// The same layer with the store's rule applied to every file and directory (see StoreModes).
  public var withStoreModes: LayerContents {
    var out = self
    for (path, entry) in entries where entry.mode & StoreModes.cleared != 0 {
      switch entry.kind {
      case .file, .directory: out[path]?.mode = StoreModes.safe(entry.mode)
      case .symlink, .whiteout, .special: break
      }
    }
    return out
  }
}

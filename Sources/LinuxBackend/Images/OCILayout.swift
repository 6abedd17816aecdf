import Glibc
import OCI

/// An OCI image layout on disk (OCI image spec, image-layout.md): the `oci-layout` file,
/// `index.json`, and every blob at `blobs/sha256/<hex>`, named by the sha256 of its bytes. The
/// local image store is one; so is a directory registry. A blob is written beside its final name
/// and renamed into place, so a reader never sees half of one; every blob read is checked
/// against its name.
struct OCILayout {
  let root: String

  static let maxBlob = 512 << 20

  var indexPath: String { root + "/index.json" }

  func blobPath(_ digest: String) -> String { root + "/blobs/sha256/" + digest.dropFirst(7) }

  /// mkdir -p the layout, with `oci-layout` and an empty index when they are missing.
  func create() throws(SystemCallError) {
    try Directories.make(root + "/blobs/sha256")
    if access(root + "/oci-layout", F_OK) != 0 {
      try SmallFiles.replace(root + "/oci-layout", with: String(decoding: ImageIndex.layoutFile, as: UTF8.self))
    }
    if access(indexPath, F_OK) != 0 { try writeIndex(ImageIndex()) }
  }

  var exists: Bool { access(root + "/oci-layout", F_OK) == 0 }

  func hasBlob(_ digest: String) -> Bool {
    SHA256.isDigest(digest) && access(blobPath(digest), F_OK) == 0
  }

  /// The blob's bytes, after checking they hash to its name (a changed or truncated blob is an
  /// error, not content).
  func readBlob(_ digest: String, limit: Int = maxBlob) throws(SystemCallError) -> [UInt8] {
    guard SHA256.isDigest(digest) else { throw SystemCallError(call: "open(blob \(digest))", errno: EINVAL) }
    let path = blobPath(digest)
    let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
    guard fd >= 0 else { throw SystemCallError(call: "open(\(SmallFiles.quoted(path)))", errno: errno) }
    defer { close(fd) }
    let bytes = try FileDescriptors.readAll(fd, shown: path, limit: limit + 1)
    guard bytes.count <= limit else { throw SystemCallError(call: "read(\(SmallFiles.quoted(path)))", errno: EFBIG) }
    guard SHA256.digest(bytes) == digest else {
      throw SystemCallError(
        call: "sha256(\(SmallFiles.quoted(path))): the content does not match its name", errno: EBADMSG)
    }
    return bytes
  }

  /// Stores `bytes` as a blob and returns its digest.
  @discardableResult
  func writeBlob(_ bytes: [UInt8]) throws(SystemCallError) -> String {
    let digest = SHA256.digest(bytes)
    if hasBlob(digest) { return digest }
    // A new temporary name per writer (SafeFiles): two sessions storing the same blob at once
    // each write their own file, and the second rename(2) replaces identical bytes.
    try SafeFiles.replace(blobPath(digest), with: bytes, mode: 0o644, durable: false)
    return digest
  }

  func index() throws(SystemCallError) -> ImageIndex {
    guard let index = try parsedIndex() else {
      throw SystemCallError(call: "parse(\(SmallFiles.quoted(indexPath)))", errno: EBADMSG)
    }
    return index
  }

  /// index.json (an empty index when there is none), or nil when it is not a JSON image index.
  func parsedIndex() throws(SystemCallError) -> ImageIndex? {
    guard access(indexPath, F_OK) == 0 else { return ImageIndex() }
    let bytes = try SmallFiles.read(indexPath)
    guard let json = try? JSONValue.parse(bytes), let index = try? ImageIndex(json: json) else { return nil }
    return index
  }

  func writeIndex(_ index: ImageIndex) throws(SystemCallError) {
    try SmallFiles.replace(indexPath, with: String(decoding: index.json.encoded(), as: UTF8.self))
  }

  /// A JSON document blob (manifest, config), checked and parsed.
  func document(_ digest: String) throws(SystemCallError) -> JSONValue {
    let bytes = try readBlob(digest, limit: JSONValue.maxDocument)
    guard let json = try? JSONValue.parse(bytes) else {
      throw SystemCallError(call: "parse(blob \(digest.prefix(19)))", errno: EBADMSG)
    }
    return json
  }
}

/// mkdir -p.
enum Directories {
  static func make(_ path: String, mode: mode_t = 0o755) throws(SystemCallError) {
    var prefix = path.hasPrefix("/") ? "" : "."
    for part in path.split(separator: "/") {
      prefix += "/" + part
      if mkdir(prefix, mode) != 0 && errno != EEXIST {
        throw SystemCallError(call: "mkdir(\(SmallFiles.quoted(prefix)))", errno: errno)
      }
    }
  }
}

internal import Crypto

/// SHA-256 (FIPS 180-4): the content address of every OCI blob ("sha256:" + 64 hex digits, OCI
/// image spec, descriptor.md "Digests"). The one place boxwalk hashes: every digest, on both
/// kernels, goes through this type, so the simulator computes the same digests as the Linux
/// backend. The hashing is swift-crypto's (BoringSSL's SHA-256, with the CPU's SHA instructions
/// where it has them): 11 times as fast as the plain Swift one it replaced in a release build,
/// 400 times in a debug build (docs/architecture.md, "SHA-256"; BENCHMARKS.md).
public struct SHA256: Sendable {
  private var hasher = Crypto.SHA256()

  public init() {}

  public mutating func update(_ bytes: some Collection<UInt8>) {
    let done: Void? = bytes.withContiguousStorageIfAvailable {
      hasher.update(bufferPointer: UnsafeRawBufferPointer($0))
    }
    if done == nil { Array(bytes).withUnsafeBytes { hasher.update(bufferPointer: $0) } }
  }

  /// The 32 bytes of the digest.
  public func finish() -> [UInt8] { Array(hasher.finalize()) }

  /// `sha256:` and the hex digest of `bytes`: an OCI digest.
  public static func digest(_ bytes: some Collection<UInt8>) -> String {
    var h = SHA256()
    h.update(bytes)
    return "sha256:" + hex(h.finish())
  }

  public static func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes {
      out.append(digits[Int(b >> 4)])
      out.append(digits[Int(b & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Whether `digest` is `sha256:` and 64 lowercase hex digits (the only algorithm boxwalk
  /// accepts; a digest becomes a file name, so nothing else may pass).
  public static func isDigest(_ digest: String) -> Bool {
    guard digest.hasPrefix("sha256:") else { return false }
    let hex = digest.dropFirst(7)
    return hex.utf8.count == 64 && hex.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || ($0 >= 97 && $0 <= 102) }
  }
}

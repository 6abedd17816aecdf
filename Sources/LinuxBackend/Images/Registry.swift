import Glibc
import Kernel
import OCI

/// Where push and pull send and fetch content: a directory (an OCI image layout) or a registry
/// server (the OCI distribution API). Both store blobs by digest and manifests by tag.
protocol Registry {
  func hasBlob(_ digest: String) throws(RegistryError) -> Bool
  func putBlob(_ digest: String, _ bytes: [UInt8]) throws(RegistryError)
  /// The blob, checked against its digest.
  func blob(_ digest: String, limit: Int) throws(RegistryError) -> [UInt8]
  func manifest(_ tag: String) throws(RegistryError) -> [UInt8]
  func putManifest(_ tag: String, _ bytes: [UInt8]) throws(RegistryError)
}

struct RegistryError: Error, Equatable {
  var errno: Int32
  var detail: String
}

/// A directory registry: an OCI image layout in HOME/registries/NAME whose index names each
/// manifest `REPOSITORY:TAG`.
struct DirectoryRegistry: Registry {
  let layout: OCILayout
  let repository: String
  /// What a missing tag is called (ImageTransfer.notInRegistry), the same text as the simulator's.
  let notFound: String

  private func wrap<T>(_ body: () throws(SystemCallError) -> T) throws(RegistryError) -> T {
    do {
      return try body()
    } catch {
      throw RegistryError(errno: error.errno, detail: error.call)
    }
  }

  func hasBlob(_ digest: String) throws(RegistryError) -> Bool { layout.hasBlob(digest) }

  func putBlob(_ digest: String, _ bytes: [UInt8]) throws(RegistryError) {
    try wrap { () throws(SystemCallError) in
      try layout.create()
      guard try layout.writeBlob(bytes) == digest else {
        throw SystemCallError(call: "sha256 of the blob", errno: EBADMSG)
      }
    }
  }

  func blob(_ digest: String, limit: Int) throws(RegistryError) -> [UInt8] {
    try wrap { () throws(SystemCallError) in try layout.readBlob(digest, limit: limit) }
  }

  func manifest(_ tag: String) throws(RegistryError) -> [UInt8] {
    let index = layout.exists ? try wrap { () throws(SystemCallError) in try layout.index() } : ImageIndex()
    guard let found = index.manifest(named: repository + ":" + tag) else {
      throw RegistryError(errno: ENOENT, detail: notFound)
    }
    return try blob(found.digest, limit: JSONValue.maxDocument)
  }

  func putManifest(_ tag: String, _ bytes: [UInt8]) throws(RegistryError) {
    try wrap { () throws(SystemCallError) in
      try layout.create()
      let digest = try layout.writeBlob(bytes)
      var index = try layout.index()
      index.tag(repository + ":" + tag, Descriptor(mediaType: MediaType.manifest, digest: digest, size: bytes.count))
      try layout.writeIndex(index)
    }
  }
}

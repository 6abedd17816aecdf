/// Image names and registry references (docs/security.md, "The image store"), checked before
/// anything touches a file.
///
/// A local image is `NAME[:TAG]`: NAME follows the name rule, TAG defaults to `latest` (as in
/// Docker). A registry reference says where the image goes or comes from:
///
///     HOST:PORT/NAME[:TAG]   a registry server speaking the OCI distribution API, on loopback
///     oci:DIR/NAME[:TAG]     a directory registry: an OCI image layout named DIR in boxwalk's home
///
/// A pulled image keeps its whole reference as its local name (`localhost:5000/app:v1`).
public struct ImageName: Equatable, Hashable, Sendable, CustomStringConvertible {
  public var name: String
  public var tag: String

  public init(name: String, tag: String = "latest") {
    self.name = name
    self.tag = tag
  }

  /// `app` for app:latest, `app:v1` otherwise: how images and their layers are named in output.
  public var description: String { tag == "latest" ? name : name + ":" + tag }
  /// Always with the tag: the key in an OCI index's org.opencontainers.image.ref.name.
  public var full: String { name + ":" + tag }

  /// A local image name, or the reason it is not one.
  public static func parse(_ text: String) -> Result<ImageName, NameError> {
    if let ref = try? RegistryRef.parse(text).get() { return .success(ref.localName) }
    var name = text
    var tag = "latest"
    if let colon = text.lastIndex(of: ":") {
      name = String(text[..<colon])
      tag = String(text[text.index(after: colon)...])
      if let problem = checkTag(tag) { return .failure(NameError(value: text, rule: problem)) }
    }
    if let problem = Names.checkName(name, limit: 128) {
      return .failure(NameError(value: text, rule: "the name: " + Names.describe(problem)))
    }
    return .success(ImageName(name: name, tag: tag))
  }

  /// OCI distribution spec, "tag": `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
  static func checkTag(_ tag: String) -> String? {
    guard let first = tag.first else { return "a tag is not empty" }
    guard first.isASCII && (first.isLetter || first.isNumber || first == "_") else {
      return "a tag starts with a letter, a digit or _"
    }
    guard tag.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) }) else {
      return "a tag uses A-Z a-z 0-9 _ . - only"
    }
    return tag.utf8.count <= 128 ? nil : "a tag has at most 128 characters"
  }
}

public struct NameError: Error, Equatable, Sendable {
  public var value: String
  public var rule: String
}

/// Where `image push` and `image pull` go.
public struct RegistryRef: Equatable, Hashable, Sendable, CustomStringConvertible {
  public enum Location: Equatable, Hashable, Sendable {
    /// A registry server on loopback, reached over plain HTTP/1.1.
    case server(host: String, port: Int)
    /// An OCI image layout directory in boxwalk's home (registries/DIR).
    case directory(String)
  }

  public var location: Location
  /// The repository: lowercase, as the distribution spec requires: components of
  /// `[a-z0-9]+([._-][a-z0-9]+)*` joined by `/` (`library/busybox`).
  public var repository: String
  public var tag: String

  public var description: String {
    switch location {
    case .server(let host, let port): "\(host):\(port)/\(repository):\(tag)"
    case .directory(let dir): "oci:\(dir)/\(repository):\(tag)"
    }
  }

  /// The registry part alone: `localhost:5000` or `oci:shelf`.
  public var registry: String {
    switch location {
    case .server(let host, let port): "\(host):\(port)"
    case .directory(let dir): "oci:\(dir)"
    }
  }

  /// The local name a pulled image gets: the whole reference.
  public var localName: ImageName {
    switch location {
    case .server(let host, let port): ImageName(name: "\(host):\(port)/\(repository)", tag: tag)
    case .directory(let dir): ImageName(name: "oci:\(dir)/\(repository)", tag: tag)
    }
  }

  /// The hosts boxwalk talks to: the registry must be on this machine's loopback.
  public static let loopbackHosts: Set<String> = ["localhost", "127.0.0.1"]

  public static func parse(_ text: String) -> Result<RegistryRef, NameError> {
    func fail(_ rule: String) -> Result<RegistryRef, NameError> { .failure(NameError(value: text, rule: rule)) }
    guard let slash = text.firstIndex(of: "/") else {
      return fail("a reference is HOST:PORT/NAME[:TAG] or oci:DIR/NAME[:TAG]")
    }
    let registry = String(text[..<slash])
    if registry.hasPrefix("oci:"), let problem = Names.checkName(String(registry.dropFirst(4)), limit: 64) {
      return fail("the directory registry's name: " + Names.describe(problem))
    }
    var rest = String(text[text.index(after: slash)...])
    var tag = "latest"
    if let colon = rest.lastIndex(of: ":") {
      tag = String(rest[rest.index(after: colon)...])
      rest = String(rest[..<colon])
      if let problem = ImageName.checkTag(tag) { return fail(problem) }
    }
    guard rest.utf8.count <= 255,
      rest.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ isRepository(String($0)) })
    else {
      return fail(
        "the repository (\(rest)) is lowercase letters and digits, joined by . _ or -, in parts separated by /")
    }
    if registry.hasPrefix("oci:") {
      return .success(RegistryRef(location: .directory(String(registry.dropFirst(4))), repository: rest, tag: tag))
    }
    guard let colon = registry.lastIndex(of: ":"), let port = Int(registry[registry.index(after: colon)...]),
      (1...65535).contains(port)
    else { return fail("a registry server is written HOST:PORT, with a port from 1 to 65535") }
    let host = String(registry[..<colon])
    guard loopbackHosts.contains(host) else {
      return fail("boxwalk talks only to registries on this machine's loopback: localhost or 127.0.0.1")
    }
    return .success(RegistryRef(location: .server(host: host, port: port), repository: rest, tag: tag))
  }

  static func isRepository(_ s: String) -> Bool {
    guard !s.isEmpty, s.utf8.count <= 128 else { return false }
    var previousSeparator = true
    for c in s {
      let alnum = c.isASCII && (c.isLowercase || c.isNumber)
      if alnum {
        previousSeparator = false
      } else if "._-".contains(c) && !previousSeparator {
        previousSeparator = true
      } else {
        return false
      }
    }
    return !previousSeparator
  }
}

extension Names {
  /// The rule a name broke, as one phrase for an error message.
  public static func describe(_ problem: Problem) -> String {
    switch problem {
    case .empty: "a name is not empty"
    case .badFirstCharacter: "a name starts with a letter or a digit"
    case .badCharacter(let c, let column):
      "a name uses A-Z a-z 0-9 _ . - only (\(JSON.quote(String(c))) at column \(column))"
    case .tooLong(let bytes, let limit): "at most \(limit) bytes (this one has \(bytes))"
    case .reserved: "host and all are reserved"
    }
  }
}

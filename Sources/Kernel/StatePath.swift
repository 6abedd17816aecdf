/// A path into the state tree (docs/state-paths.md): `web.hostname`, `web.ns.uts`,
/// `web.mounts["/proc"].fstype`, `web.pid.ps[0]`. Keys made of letters, digits, `_` and `-` are
/// written bare; any other key is written as a JSON string in brackets.
public struct StatePath: Equatable, Hashable, Sendable, CustomStringConvertible {
  public enum Component: Equatable, Hashable, Sendable {
    case key(String)
    case index(Int)
  }

  public var components: [Component]

  public init(_ components: [Component]) { self.components = components }
  public init(keys: String...) { self.components = keys.map { .key($0) } }

  public func appending(_ c: Component) -> StatePath { StatePath(components + [c]) }
  public func appending(key: String) -> StatePath { appending(.key(key)) }

  public var description: String {
    var out = ""
    for c in components {
      switch c {
      case .key(let k) where Self.isBare(k):
        if !out.isEmpty { out += "." }
        out += k
      case .key(let k): out += "[" + JSON.quote(k) + "]"
      case .index(let i): out += "[\(i)]"
      }
    }
    return out
  }

  static func isBare(_ k: String) -> Bool {
    !k.isEmpty && k.unicodeScalars.allSatisfy { isBareScalar($0) }
  }

  /// Whether a key may hold `c` and still be written bare (web.ns.uts, not web["ns"]).
  public static func isBareScalar(_ c: Unicode.Scalar) -> Bool {
    (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c == "_" || c == "-"
  }

  /// Parses a path. Errors give the column (1-based) of the offending character.
  public static func parse(_ text: String) throws(PathSyntaxError) -> StatePath {
    let s = Array(text.unicodeScalars)
    var i = 0
    var comps: [Component] = []
    func fail(_ why: String) -> PathSyntaxError { PathSyntaxError(text: text, column: i + 1, reason: why) }
    if s.isEmpty { throw PathSyntaxError(text: text, column: 1, reason: "the path is empty") }
    while i < s.count {
      if s[i] == "[" {
        i += 1
        if i < s.count, s[i] == "\"" {
          i += 1
          var key = ""
          var closed = false
          while i < s.count {
            let c = s[i]
            if c == "\\" {
              i += 1
              guard i < s.count else { break }
              switch s[i] {
              case "n": key += "\n"
              case "t": key += "\t"
              case "r": key += "\r"
              case "u":
                // \uXXXX, as JSON.quote writes control characters.
                guard i + 4 < s.count,
                  let v = UInt32(String(String.UnicodeScalarView(s[(i + 1)...(i + 4)])), radix: 16),
                  let scalar = Unicode.Scalar(v)
                else { throw fail("\\u needs four hex digits") }
                key.unicodeScalars.append(scalar)
                i += 4
              case "\"", "\\", "/": key.unicodeScalars.append(s[i])
              default: throw fail("unknown escape \\\(s[i]) in a quoted key")
              }
            } else if c == "\"" {
              closed = true
              i += 1
              break
            } else {
              key.unicodeScalars.append(c)
            }
            i += 1
          }
          if !closed { throw fail("a quoted key is not closed with \"") }
          guard i < s.count, s[i] == "]" else { throw fail("expected ] after a quoted key") }
          i += 1
          comps.append(.key(key))
        } else {
          // A list index, or a key written without quotes: a REPL line is split like a shell's,
          // so `show web.mounts["/proc"]` arrives here as web.mounts[/proc]; accept that too.
          var text = ""
          while i < s.count, s[i] != "]" {
            text.unicodeScalars.append(s[i])
            i += 1
          }
          guard i < s.count else { throw fail("expected ] to close [") }
          guard !text.isEmpty else { throw fail("expected a key or a list index between [ and ]") }
          i += 1
          if text.unicodeScalars.allSatisfy({ $0 >= "0" && $0 <= "9" }), let n = Int(text) {
            comps.append(.index(n))
          } else {
            comps.append(.key(text))
          }
        }
      } else {
        if !comps.isEmpty {
          guard s[i] == "." else { throw fail("expected . or [ between path parts") }
          i += 1
        }
        var key = ""
        while i < s.count, isBareScalar(s[i]) {
          key.unicodeScalars.append(s[i])
          i += 1
        }
        if key.isEmpty { throw fail("expected a name (letters, digits, _ or -)") }
        comps.append(.key(key))
      }
    }
    return StatePath(comps)
  }
}

public struct PathSyntaxError: Error, Equatable, Sendable {
  public var text: String
  public var column: Int
  public var reason: String
}

extension StateValue {
  /// The value at `path`, or nil.
  public func value(at path: StatePath) -> StateValue? {
    var current = self
    for c in path.components {
      switch (c, current.unwrapped) {
      case (.key(let k), .map(let m)):
        guard let next = m[k] else { return nil }
        current = next
      case (.index(let i), .list(let l)):
        guard i >= 0, i < l.count else { return nil }
        current = l[i]
      default: return nil
      }
    }
    return current
  }

  /// Every path in the tree (maps and leaves), depth first, for completion and suggestions.
  public func allPaths(prefix: StatePath = StatePath([])) -> [StatePath] {
    var out: [StatePath] = []
    switch unwrapped {
    case .map(let m):
      for (k, v) in m.entries {
        let p = prefix.appending(key: k)
        out.append(p)
        out += v.allPaths(prefix: p)
      }
    case .list(let l):
      for (i, v) in l.enumerated() {
        let p = prefix.appending(.index(i))
        out.append(p)
        out += v.allPaths(prefix: p)
      }
    default: break
    }
    return out
  }
}

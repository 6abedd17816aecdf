import Kernel

/// A small JSON value for OCI documents (index.json, manifests, configs): parsed strictly, and
/// written compactly with keys in the order given, so the same document always has the same
/// bytes and the same digest. Documents from a registry are capped in size before parsing.
public indirect enum JSONValue: Equatable, Sendable {
  case string(String)
  case number(Int)
  case bool(Bool)
  case null
  case array([JSONValue])
  case object([(String, JSONValue)])

  public static func == (a: JSONValue, b: JSONValue) -> Bool { a.encoded() == b.encoded() }

  public subscript(key: String) -> JSONValue? {
    if case .object(let entries) = self { return entries.first { $0.0 == key }?.1 }
    return nil
  }

  public var string: String? { if case .string(let s) = self { s } else { nil } }
  public var int: Int? { if case .number(let n) = self { n } else { nil } }
  public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }

  public func encoded() -> [UInt8] {
    var out = ""
    write(into: &out)
    return Array(out.utf8)
  }

  private func write(into out: inout String) {
    switch self {
    case .string(let s): out += JSON.quote(s)
    case .number(let n): out += String(n)
    case .bool(let b): out += b ? "true" : "false"
    case .null: out += "null"
    case .array(let items):
      out += "["
      for (i, v) in items.enumerated() {
        if i > 0 { out += "," }
        v.write(into: &out)
      }
      out += "]"
    case .object(let entries):
      out += "{"
      for (i, (k, v)) in entries.enumerated() {
        if i > 0 { out += "," }
        out += JSON.quote(k) + ":"
        v.write(into: &out)
      }
      out += "}"
    }
  }

  public struct ParseError: Error, Equatable, Sendable {
    public var offset: Int
  }

  public static let maxDocument = 4 << 20

  public static func parse(_ bytes: [UInt8]) throws(ParseError) -> JSONValue {
    guard bytes.count <= maxDocument else { throw ParseError(offset: maxDocument) }
    var p = Parser(bytes: bytes)
    let v = try p.value(depth: 0)
    p.skip()
    guard p.i == bytes.count else { throw ParseError(offset: p.i) }
    return v
  }

  struct Parser {
    let bytes: [UInt8]
    var i = 0

    mutating func skip() { while i < bytes.count, [9, 10, 13, 32].contains(bytes[i]) { i += 1 } }

    mutating func value(depth: Int) throws(ParseError) -> JSONValue {
      guard depth < 64 else { throw ParseError(offset: i) }
      skip()
      guard i < bytes.count else { throw ParseError(offset: i) }
      switch bytes[i] {
      case UInt8(ascii: "{"):
        i += 1
        var entries: [(String, JSONValue)] = []
        skip()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") {
          i += 1
          return .object(entries)
        }
        while true {
          skip()
          guard case .string(let key) = try value(depth: depth + 1) else { throw ParseError(offset: i) }
          skip()
          guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw ParseError(offset: i) }
          i += 1
          entries.append((key, try value(depth: depth + 1)))
          skip()
          guard i < bytes.count else { throw ParseError(offset: i) }
          if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
          guard bytes[i] == UInt8(ascii: "}") else { throw ParseError(offset: i) }
          i += 1
          return .object(entries)
        }
      case UInt8(ascii: "["):
        i += 1
        var items: [JSONValue] = []
        skip()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") {
          i += 1
          return .array(items)
        }
        while true {
          items.append(try value(depth: depth + 1))
          skip()
          guard i < bytes.count else { throw ParseError(offset: i) }
          if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
          guard bytes[i] == UInt8(ascii: "]") else { throw ParseError(offset: i) }
          i += 1
          return .array(items)
        }
      case UInt8(ascii: "\""):
        return .string(try string())
      case UInt8(ascii: "t"): return try literal("true", .bool(true))
      case UInt8(ascii: "f"): return try literal("false", .bool(false))
      case UInt8(ascii: "n"): return try literal("null", .null)
      default:
        let start = i
        if bytes[i] == UInt8(ascii: "-") { i += 1 }
        while i < bytes.count,
          (48...57).contains(bytes[i])
            || [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(
              bytes[i])
        { i += 1 }
        // Sizes and versions are integers; a fraction is kept as its integer part.
        let text = String(decoding: bytes[start..<i], as: UTF8.self)
        guard let n = Int(text) ?? Double(text).flatMap({ $0.isFinite && abs($0) < 1e18 ? Int($0) : nil }) else {
          throw ParseError(offset: start)
        }
        return .number(n)
      }
    }

    mutating func literal(_ word: String, _ v: JSONValue) throws(ParseError) -> JSONValue {
      let w = Array(word.utf8)
      guard i + w.count <= bytes.count, Array(bytes[i..<i + w.count]) == w else { throw ParseError(offset: i) }
      i += w.count
      return v
    }

    mutating func string() throws(ParseError) -> String {
      i += 1
      var out: [UInt8] = []
      while i < bytes.count {
        let c = bytes[i]
        i += 1
        if c == UInt8(ascii: "\"") {
          guard let s = String(validating: out, as: UTF8.self) else { throw ParseError(offset: i) }
          return s
        }
        if c < 0x20 { throw ParseError(offset: i) }
        guard c == UInt8(ascii: "\\") else {
          out.append(c)
          continue
        }
        guard i < bytes.count else { throw ParseError(offset: i) }
        let e = bytes[i]
        i += 1
        switch e {
        case UInt8(ascii: "n"): out.append(10)
        case UInt8(ascii: "t"): out.append(9)
        case UInt8(ascii: "r"): out.append(13)
        case UInt8(ascii: "b"): out.append(8)
        case UInt8(ascii: "f"): out.append(12)
        case UInt8(ascii: "u"):
          // Exactly four hex digits (RFC 8259 section 7); no sign, no space.
          guard bytes.count - i >= 4, let code = ParsedNumber.hexadecimal(bytes[i..<i + 4], max: 0xFFFF) else {
            throw ParseError(offset: i)
          }
          i += 4
          // Surrogate pairs are not needed by OCI documents; a lone one becomes U+FFFD.
          let scalar = Unicode.Scalar(UInt32(code)) ?? "\u{FFFD}"
          out += Array(String(Character(scalar)).utf8)
        default: out.append(e)
        }
      }
      throw ParseError(offset: i)
    }
  }
}

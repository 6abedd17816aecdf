import Kernel
import OCI

/// The state tree as a daemon hands it to its clients (GET /v1/sessions/{id}/tree), without
/// losing anything a lesson check reads: `state --json` prints a volatile value as a plain one,
/// and a list and a map look alike to no one, but a client that checks a lesson must see the very
/// tree the session holds. So, in JSON: a string, an int and a bool as themselves; a map as an
/// object (keys in the tree's order); a list as an array whose first element is the string "L";
/// a volatile value as the array ["V", value].
public enum StateTreeWire {
  public static func encode(_ value: StateValue) -> String {
    var out = ""
    write(value, into: &out)
    return out
  }

  private static func write(_ value: StateValue, into out: inout String) {
    switch value {
    case .string(let s): out += JSON.quote(s)
    case .int(let i): out += String(i)
    case .bool(let b): out += b ? "true" : "false"
    case .volatile(let v):
      out += #"["V","#
      write(v, into: &out)
      out += "]"
    case .list(let items):
      out += #"["L""#
      for item in items {
        out += ","
        write(item, into: &out)
      }
      out += "]"
    case .map(let m):
      out += "{"
      for (i, (k, v)) in m.entries.enumerated() {
        if i > 0 { out += "," }
        out += JSON.quote(k) + ":"
        write(v, into: &out)
      }
      out += "}"
    }
  }

  public struct Malformed: Error, CustomStringConvertible {
    public var description: String
  }

  /// The tree `encode` wrote; anything else is refused.
  public static func decode(_ text: String) throws(Malformed) -> StateValue {
    let parsed: JSONValue
    do {
      parsed = try JSONValue.parse(Array(text.utf8))
    } catch {
      throw Malformed(description: "not JSON (at byte \(error.offset))")
    }
    return try value(parsed)
  }

  private static func value(_ json: JSONValue) throws(Malformed) -> StateValue {
    switch json {
    case .string(let s): return .string(s)
    case .number(let n): return .int(n)
    case .bool(let b): return .bool(b)
    case .null: throw Malformed(description: "null is not a state value")
    case .object(let entries):
      var m: [(String, StateValue)] = []
      for (k, v) in entries { m.append((k, try value(v))) }
      return .map(StateMap(m))
    case .array(let items):
      switch items.first {
      case .string("L")?:
        var list: [StateValue] = []
        for item in items.dropFirst() { list.append(try value(item)) }
        return .list(list)
      case .string("V")? where items.count == 2: return .volatile(try value(items[1]))
      default: throw Malformed(description: #"an array must start with "L" (a list) or "V" (a volatile value)"#)
      }
    }
  }
}

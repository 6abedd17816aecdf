import Kernel

/// Prints state values the way `show` and `state` do (docs/state-paths.md): a scalar as exactly one
/// line `PATH = VALUE`; a list or map as `PATH =` followed by an indented tree. Volatile values
/// inside a tree are left out (they are printed only when asked for by their own path or with
/// --json).
public enum TreePrinter {
  public static func show(_ path: StatePath, _ value: StateValue) -> [String] {
    var out: [String] = []
    emit(label: path.description, value: value, indent: "", into: &out)
    return out
  }

  private static func emit(label: String, value: StateValue, indent: String, into out: inout [String]) {
    switch value.unwrapped {
    case .map(let m):
      let visible = m.entries.filter { !$0.1.isVolatile }
      if visible.isEmpty {
        // A map of nothing but volatile values (cpu.stat's times and counts) would print as
        // empty, as if there were nothing to read: say where the values went.
        out.append(
          "\(indent)\(label) = {}"
            + (m.entries.isEmpty ? "" : "  (values that change from run to run are left out: show one by its path)"))
        return
      }
      out.append("\(indent)\(label) =")
      for (k, v) in visible {
        emit(label: StatePath(keys: k).description, value: v, indent: indent + "  ", into: &out)
      }
    case .list(let items):
      let visible = items.filter { !$0.isVolatile }
      if visible.isEmpty || visible.allSatisfy(\.isScalar) {
        out.append("\(indent)\(label) = \(StateValue.list(visible).scalarText)")
        return
      }
      out.append("\(indent)\(label) =")
      for (i, v) in visible.enumerated() {
        emit(label: "[\(i)]", value: v, indent: indent + "  ", into: &out)
      }
    default:
      out.append("\(indent)\(label) = \(value.scalarText)")
    }
  }
}

import Kernel

/// `draw [ns|mounts|layers [PATH]|net|cgroups|all] [--changed] [--usage]` and `pictures on|off`:
/// the state tree as pictures (docs/pictures.md). Drawing reads the kernel again, as `state`
/// does, and changes nothing.
extension Session {
  func drawCommand(_ args: [String], into out: inout Output) throws {
    var kind: PictureKind?
    var kindGiven = false
    var file: String?
    var changed = false
    var usage = false
    for arg in args {
      switch arg {
      case "--changed": changed = true
      case "--usage": usage = true
      case _ where !kindGiven && !arg.hasPrefix("-"):
        kindGiven = true
        if arg == "all" { break }
        guard let k = PictureKind(rawValue: arg) else {
          var details: [(String, String)] = [("pictures", Self.pictureNames)]
          if let near = Nearest.match(arg, in: PictureKind.allCases.map(\.rawValue) + ["all"]) {
            details.append(("did you mean", "draw " + near))
          }
          details.append(LabError.unchanged)
          throw LabError("draw has no picture named \(quotedForTerminal(arg))", details)
        }
        kind = k
      case _ where kind == .layers && file == nil && arg.hasPrefix("/"):
        file = arg
      default:
        throw LabError(
          "draw does not take \(quotedForTerminal(arg)) here",
          [
            ("usage", CommandTable.lookup("draw")?.usage ?? "draw"),
            ("rule", "a PATH (starting with /) only after layers; the options are --changed and --usage"),
            LabError.unchanged,
          ])
      }
    }
    try refresh()
    out.lines += PictureText.draw(kind, pictureInput(changed: changed, file: file, usage: usage), style: pictureStyle)
  }

  func picturesCommand(_ args: [String], into out: inout Output) throws {
    guard args.count <= 1 else { throw tooMany("pictures", args) }
    guard let word = args.first else {
      out.lines.append("pictures are \(picturesOn ? "on" : "off"): pictures on|off switches")
      return
    }
    guard word == "on" || word == "off" else {
      throw LabError(
        "pictures takes on or off, not \(quotedForTerminal(word))",
        [("usage", "pictures on|off"), LabError.unchanged])
    }
    picturesOn = word == "on"
    out.lines.append(
      picturesOn
        ? "pictures on: after each step, the pictures of what it changed, the changes marked"
        : "pictures off")
  }

  /// With `pictures on`, after a step: the picture of each part of the state the step changed.
  func picturesAfterStep(_ changes: [StateChange]) -> [String] {
    let kinds = PictureKind.allCases.filter { kind in changes.contains { Self.kind(of: $0.path) == kind } }
    var lines: [String] = []
    // Indented under the step's output like its diff, so two columns narrower.
    var style = pictureStyle
    style.width = max(PictureStyle.minimumWidth, style.width - 2)
    for kind in kinds {
      lines += PictureText.draw(kind, pictureInput(changed: true, file: nil, usage: false), style: style)
        .map { "  " + $0 }
    }
    return lines
  }

  /// Which picture shows a path of the state tree (docs/state-paths.md), if any.
  static func kind(of path: StatePath) -> PictureKind? {
    guard path.components.count >= 2, case .key(let part) = path.components[1] else {
      // A box made or removed: its row of the namespace grid.
      return path.components.count == 1 ? .ns : nil
    }
    switch part {
    case "ns": return .ns
    case "mounts", "root", "propagation": return .mounts
    case "fs": return .layers
    case "net": return .net
    case "cgroup": return .cgroups
    default: return nil
    }
  }

  static let pictureNames = "ns mounts layers net cgroups all"

  /// What the pictures are drawn from now: the tree, the last step's changes, the current box,
  /// and the last ping replayed on the current facts.
  func pictureInput(changed: Bool, file: String?, usage: Bool) -> PictureInput {
    pictureInput(changes: changed ? (last?.changes ?? []) : nil, file: file, usage: usage)
  }

  /// The same, marking `changes` (nil: nothing marked).
  func pictureInput(changes: [StateChange]?, file: String?, usage: Bool) -> PictureInput {
    var route: PictureRoute?
    if let (side, address) = lastPing {
      let view = NetworkView(facts)
      let command = "ping \(address) --from \(side.name)"
      switch PingModel.ping(view, from: side.name, to: address) {
      case .reachable(let path, _): route = PictureRoute(command: command, hops: path.map(\.description))
      case .unreachable(let failure):
        route = PictureRoute(command: command, hops: [], failure: PingText(current: current, view: view).short(failure))
      }
    }
    return PictureInput(
      tree: tree, changes: changes, box: current, file: file, route: route, usage: usage)
  }
}

import Kernel

/// Validation done before any syscall (docs/architecture.md, "Errors"): a bad argument is refused
/// with the rule and a fix, and nothing changes.
extension Session {
  func arity(_ command: String, _ args: [String], _ n: Int, usageOf: String? = nil) throws {
    if args.count > n { throw tooMany(usageOf ?? command, args) }
    if args.count < n {
      let info = CommandTable.lookup(usageOf ?? command)
      throw LabError(
        "\(command) needs \(n == 1 ? "an argument" : "\(n) arguments"), got \(args.count)",
        [("usage", info?.usage ?? command), LabError.unchanged])
    }
  }

  func tooMany(_ command: String, _ args: [String], fix: String? = nil) -> LabError {
    let info = CommandTable.lookup(command)
    var details = [
      ("got", args.map { quotedForTerminal($0) }.joined(separator: " ")), ("usage", info?.usage ?? command),
    ]
    if let fix { details.append(("fix", fix)) }
    return LabError("too many arguments for \(command)", details + [LabError.unchanged])
  }

  func usage(_ command: String, _ message: String) -> LabError {
    LabError(message, [("usage", CommandTable.lookup(command)?.usage ?? command), LabError.unchanged])
  }

  func unknown(_ word: String, candidates: [String]) -> LabError {
    var details: [(String, String)] = []
    if let near = Nearest.match(word, in: candidates) { details.append(("did you mean", near)) }
    details.append(("see", "help lists every command"))
    return LabError("unknown command \(quotedForTerminal(word))", details)
  }

  func currentBox(_ command: String) throws -> String {
    guard let current else {
      throw LabError(
        "\(command) acts on the current box, and there is none",
        [
          (
            "fix",
            boxNames.isEmpty ? "box new NAME creates one" : "use NAME picks one of: \(boxNames.joined(separator: " "))"
          ), LabError.unchanged,
        ])
    }
    return current
  }

  func existingBox(_ name: String) throws -> String {
    guard boxNames.contains(name) else {
      var details: [(String, String)] = [("boxes", boxNames.isEmpty ? "none yet" : boxNames.joined(separator: " "))]
      if let near = Nearest.match(name, in: boxNames) { details.append(("did you mean", near)) }
      details.append(LabError.unchanged)
      throw LabError("no box named \(quotedForTerminal(name))", details)
    }
    return name
  }

  func checkNewBoxName(_ name: String) throws {
    if let problem = Names.checkBoxName(name) {
      let rule: String
      switch problem {
      case .reserved: rule = "\"host\" and \"all\" are reserved: state paths use them"
      case .tooLong(let bytes, let limit):
        rule = "at most \(limit) bytes (it becomes part of interface names, IFNAMSIZ); this one has \(bytes)"
      case .empty: rule = "a name cannot be empty"
      case .badFirstCharacter, .badCharacter: rule = "names match [A-Za-z0-9][A-Za-z0-9_.-]*"
      }
      var details = [("name", quotedForTerminal(name)), ("rule", rule)]
      if case .badCharacter(_, let column) = problem { details.insert(("where", "character \(column)"), at: 1) }
      details.append(LabError.unchanged)
      throw LabError("\(quotedForTerminal(name)) is not a valid box name", details)
    }
    if boxNames.contains(name) {
      throw LabError(
        "a box named \(name) already exists",
        [("fix", "pick another name, or box rm \(name) first"), LabError.unchanged])
    }
  }

  /// unshare and join take `uts` or `uts,ipc`: known kinds, each once.
  func parseKinds(_ text: String) throws -> [NamespaceKind] {
    var kinds: [NamespaceKind] = []
    for part in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard let kind = NamespaceKind(rawValue: String(part)) else {
        var details: [(String, String)] = [("kinds", NamespaceKind.allCases.map(\.rawValue).joined(separator: " "))]
        if let near = Nearest.match(String(part), in: NamespaceKind.allCases.map(\.rawValue)) {
          details.append(("did you mean", near))
        }
        details.append(LabError.unchanged)
        throw LabError("\(quotedForTerminal(String(part))) is not a namespace kind", details)
      }
      if kinds.contains(kind) {
        throw LabError("\(kind.rawValue) is named twice", [("fix", "name each kind once"), LabError.unchanged])
      }
      kinds.append(kind)
    }
    return kinds
  }

  /// HOST_NAME_MAX is 64 bytes; sethostname(2) would fail with EINVAL past it.
  func checkUTSName(_ name: String, what: String) throws {
    if name.utf8.count > Names.maxHostname {
      throw LabError(
        "a \(what) is at most \(Names.maxHostname) bytes; this one has \(name.utf8.count)",
        [("rule", "HOST_NAME_MAX (sethostname(2) fails with EINVAL beyond it)"), LabError.unchanged])
    }
  }

  /// A step that would change the host is refused in every backend, by comparing the
  /// box's namespace with the host's, never by remembering what was unshared (runc's validator).
  func refuseIfSharingHost(_ box: String, kind: NamespaceKind, what: String, value: String) throws {
    guard facts.box(box)?.process.namespaces[kind] != nil, shares(box, kind) else { return }
    // The label, to print: the tree's name for the namespace.
    let mine = tree.value(at: StatePath(keys: box, "ns", kind.rawValue))?.stringValue ?? "?"
    throw LabError(
      "refused: \(box) shares the host's \(kind.rawValue.uppercased()) namespace, so this would change the host's \(what)",
      [
        ("command", "\(what) \(escapedForTerminal(value))"),
        ("rule", "a box changes only namespaces of its own; \(box) is in \(mine), the host's"),
        ("fix", "unshare \(kind.rawValue)"),
        LabError.unchanged,
      ])
  }

  func help(_ topic: String?) throws -> [String] {
    guard let topic else {
      var out = ["commands (help COMMAND tells more):"]
      // One heading per area, in the order areas first appear in the table.
      var areas: [String] = []
      for info in CommandTable.all where !areas.contains(info.area) { areas.append(info.area) }
      for area in areas {
        out.append(area)
        for info in CommandTable.all where info.area == area {
          out.append("  " + info.usage.padding(24) + "  " + info.summary)
        }
      }
      return out
    }
    let matches = CommandTable.all.filter { $0.name == topic || $0.name.hasPrefix(topic + " ") }
    guard !matches.isEmpty else { throw unknown(topic, candidates: CommandTable.firstWords) }
    return matches.flatMap(\.helpLines)
  }
}

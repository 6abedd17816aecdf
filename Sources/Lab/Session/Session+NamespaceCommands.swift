import Kernel

// The box and namespace commands: what each checks before it runs its step.
extension Session {
  /// `box new NAME`, `box ls`, `box rm NAME`, `box export NAME DIR`, `box import-bundle DIR`.
  func boxCommand(_ args: [String], line: String, into out: inout Output) throws {
    guard let sub = args.first else {
      throw usage("box", "box needs a subcommand: new, ls, rm, export or import-bundle")
    }
    let rest = Array(args.dropFirst())
    switch sub {
    case "new":
      try arity("box new", rest, 1)
      let name = rest[0]
      try checkNewBoxName(name)
      try runStep(.process(.boxNew(box: name)), input: line, into: &out)
      current = name
    case "ls":
      try arity("box ls", rest, 0)
      out.lines += boxList()
    case "rm":
      try arity("box rm", rest, 1)
      let name = try existingBox(rest[0])
      try runStep(.process(.boxRemove(box: name)), input: line, into: &out)
      if current == name { current = nil }
    case "export":
      try exportCommand(rest, line: line, into: &out)
    case "import-bundle":
      try importBundleCommand(rest, into: &out)
    default:
      throw unknown("box \(sub)", candidates: ["new", "ls", "rm", "export", "import-bundle"].map { "box " + $0 })
    }
  }

  /// `unshare KINDS [--keep-propagation]`.
  func unshareCommand(_ args: [String], line: String, into out: inout Output) throws {
    let (kindArgs, keepPropagation) = try unshareOptions(args)
    try arity("unshare", kindArgs, 1)
    let box = try currentBox("unshare")
    let kinds = try parseKinds(kindArgs[0])
    if keepPropagation { try refuseKeepingHostPropagation(box, kinds) }
    try runStep(.namespace(.unshare(box: box, kinds: kinds, keepPropagation: keepPropagation)), input: line, into: &out)
  }

  /// `join KIND BOX`.
  func joinCommand(_ args: [String], line: String, into out: inout Output) throws {
    try arity("join", args, 2)
    let box = try currentBox("join")
    let kinds = try parseKinds(args[0])
    guard kinds.count == 1 else {
      throw LabError(
        "join takes one namespace kind", [("got", args[0]), ("fix", "join one kind at a time"), LabError.unchanged])
    }
    let target = try existingBox(args[1])
    if kinds[0] == .mnt { try refuseJoiningMountsAcrossRoots(box, target, command: line) }
    try runStep(.namespace(.join(box: box, kind: kinds[0], target: target)), input: line, into: &out)
  }

  /// `hostname [NAME]` and `domainname [NAME]`: print the name, or set it.
  func utsNameCommand(_ w: [String], line: String, into out: inout Output) throws {
    let args = Array(w.dropFirst())
    let setter = w[0] == "hostname"
    let box = try currentBox(w[0])
    guard args.count <= 1 else { throw tooMany(w[0], args) }
    guard let name = args.first else {
      let value = tree.value(at: StatePath(keys: box, w[0]))?.stringValue ?? ""
      out.lines.append(escapedForTerminal(value))
      return
    }
    try checkUTSName(name, what: w[0])
    try refuseIfSharingHost(box, kind: .uts, what: w[0], value: name)
    try runStep(
      setter ? .namespace(.setHostname(box: box, name: name)) : .namespace(.setDomainname(box: box, name: name)),
      input: line, into: &out)
  }
}

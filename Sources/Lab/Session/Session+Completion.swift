import Kernel

extension Session {
  /// Tab completion: what may come next, given the text before the word being typed. Commands
  /// first, then each command's arguments: box names, namespace kinds, image and layer names,
  /// cgroup keys, state paths. The line editor keeps the candidates that start with the word.
  public func completions(before line: String, word: String) -> [String] {
    let words = (try? WordSplitter.split(line)) ?? []
    let kinds = NamespaceKind.allCases.map(\.rawValue)
    let paths = { self.tree.allPaths().map(\.description) }
    let sides = ["host", OutsideNet.name] + boxNames
    switch (words.first, words.count) {
    case (nil, _): return CommandTable.firstWords + ["exit"]
    case ("box", 1): return ["new", "ls", "rm", "export", "import-bundle"]
    case ("box", 2) where words[1] == "rm" || words[1] == "export": return boxNames
    case ("use", 1): return boxNames
    case ("unshare", 1): return afterLastComma(word, kinds)
    case ("unshare", 2): return ["--propagation"]
    case ("unshare", 3) where words[2] == "--propagation": return ["private", "unchanged"]
    case ("join", 1): return kinds
    case ("join", 2): return boxNames
    case ("show", 1), ("watch", 1): return paths()
    case ("state", 1): return ["--json"]
    case ("draw", 1): return ["ns", "mounts", "layers", "net", "cgroups", "all", "--changed", "--usage"]
    case ("draw", _): return ["--changed", "--usage"]
    case ("pictures", 1): return ["on", "off"]
    case ("help", 1): return CommandTable.firstWords
    case ("ps", 1): return ["--host"]
    case ("map", 1): return ["uid", "gid"]
    case ("mount", 1): return ["proc", "sysfs", "tmpfs", "mqueue", "dev", "bind"]
    case ("propagation", 1): return ["private", "slave", "shared"]
    case ("net", 1):
      return [
        "veth", "bridge", "attach", "addr", "up", "down", "route", "outside", "forward", "nat", "publish", "listen",
        "rules",
      ]
    case ("net", 2) where ["addr", "up", "down"].contains(words[1]):
      return linkNames(.host).map { "host:" + $0 } + (current.map { linkNames(.box($0)) } ?? [])
    case ("net", 2) where ["attach", "nat"].contains(words[1]): return hostBridges()
    case ("net", 2) where words[1] == "forward": return ["on", "off"]
    case ("net", 2) where words[1] == "route": return ["default"]
    case ("net", 3) where words[1] == "route": return ["via"]
    case ("net", 3) where words[1] == "publish": return boxNames.map { $0 + ":" }
    case ("net", 4) where words[1] == "publish": return ["tcp", "udp"]
    case ("net", 3) where words[1] == "listen": return ["--on"]
    case ("net", 4) where words[1] == "listen" && words[3] == "--on": return sides
    case ("image", 1): return ["ls", "import", "tag", "push", "pull", "rm", "prune"]
    case ("image", 2) where ["rm", "tag", "push"].contains(words[1]): return imageNames()
    case ("layer", 1): return ["ls", "rm"]
    case ("layer", 2) where words[1] == "rm": return layerNames()
    case ("overlay", 1): return afterLastComma(word, imageNames() + layerNames())
    case ("rootfs", 1): return imageNames()
    case ("rootfs", 2): return ["--dir"]
    case ("cgroup", 1): return ["new", "set", "show"]
    case ("cgroup", 2) where words[1] == "set": return CgroupSetting.Key.allCases.map(\.rawValue)
    case ("cgroup", 2) where words[1] == "show": return ["--raw"]
    case ("stress", 1): return ["memory", "fork", "cpu"]
    case ("ipc", 1): return ["mq", "shm", "sem", "posix_mq", "ls"]
    case ("ipc", 2) where words[1] != "ls": return ["new"]
    case ("clock", 1): return ["offset"]
    case ("clock", 2): return ["monotonic", "boottime"]
    case ("ping", 2), ("connect", 2): return ["--from"]
    case ("ping", 3), ("connect", 3): return sides
    default: return []
    }
  }

  /// `unshare uts,i` or `overlay site,b`: the candidates for the part after the last comma,
  /// each with the part before it, so the line editor can complete the whole word.
  func afterLastComma(_ word: String, _ candidates: [String]) -> [String] {
    let done = word.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",")
    return candidates.map { done.isEmpty ? $0 : done + "," + $0 }
  }
}

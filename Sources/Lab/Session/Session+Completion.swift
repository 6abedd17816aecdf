import Kernel

extension Session {
  /// Tab completion: what may come next, given the text before the word being typed. Commands
  /// first, then each command's arguments: box names, namespace kinds, state paths.
  public func completions(before line: String, word: String) -> [String] {
    let words = (try? WordSplitter.split(line)) ?? []
    let kinds = NamespaceKind.allCases.map(\.rawValue)
    switch (words.first, words.count) {
    case (nil, _): return CommandTable.firstWords + ["exit"]
    case ("box", 1): return ["new", "ls", "rm"]
    case ("box", 2) where words[1] == "rm": return boxNames
    case ("use", 1): return boxNames
    case ("unshare", 1):
      // unshare uts,ipc: complete the part after the last comma.
      let done = word.split(separator: ",", omittingEmptySubsequences: false).dropLast().joined(separator: ",")
      return kinds.map { done.isEmpty ? $0 : done + "," + $0 }
    case ("join", 1): return kinds
    case ("join", 2): return boxNames
    case ("show", 1), ("watch", 1): return tree.allPaths().map(\.description)
    case ("state", 1): return ["--json"]
    case ("help", 1): return CommandTable.firstWords
    case ("net", 1): return ["veth", "bridge", "attach", "addr", "up", "down", "route"]
    case ("net", 2) where ["addr", "up", "down"].contains(words[1]):
      return linkNames(.host).map { "host:" + $0 } + (current.map { linkNames(.box($0)) } ?? [])
    case ("net", 2) where words[1] == "attach": return hostBridges()
    case ("image", 1): return ["ls", "import", "tag", "push", "pull", "rm", "prune"]
    case ("image", 2) where ["rm", "tag", "push"].contains(words[1]): return imageNames()
    case ("layer", 1): return ["ls", "rm"]
    case ("layer", 2) where words[1] == "rm": return layerNames()
    case ("ping", 2): return ["--from"]
    case ("ping", 3): return ["host"] + boxNames
    default: return []
    }
  }
}

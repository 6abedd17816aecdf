import Kernel

// What a namespace step achieved (Session.summary): the namespace area's own sentences.
extension Session {
  /// `unshare`, `join`, `hostname`, `domainname`, `map`, `ipc new`, `mq new` and `clock`: the
  /// namespaces named by their labels in the tree `t`; whether the box shares the host's IPC
  /// namespace, by the kernel's facts.
  func namespaceSummary(_ step: NamespaceStep, after t: StateValue) -> [String] {
    func label(_ box: String, _ kind: NamespaceKind) -> String { namespaceLabel(box, kind, in: t) }
    switch step {
    case .ipcNew(let box, let kind, let key):
      return [
        "\(box) made \(kind.rawValue) \(IPCObjectFacts.keyText(key)) in \(label(box, .ipc))"
          + (ownIPC(box) ? "" : ", the host's IPC namespace")
      ]
    case .posixMQNew(let box, let name):
      return [
        "\(box) made POSIX message queue \(JSON.quote(name)) in \(label(box, .ipc))"
          + (ownIPC(box) ? "" : ", the host's IPC namespace")
      ]
    case .clockOffset(let box, let clock, let seconds):
      return [
        "\(clock.rawValue) runs \(seconds) s ahead in \(label(box, .time)), the time namespace \(box)'s next process enters; the host's clock did not change"
      ]
    case .map(let box, let kind, let range):
      var lines = [
        "\(box)'s \(kind.rawValue)_map is now \(range): \(kind.rawValue) \(range.inside) inside is \(range.outside) on the host"
      ]
      if range.inside == 0 {
        lines.append(
          "\(box) switched to \(kind.rawValue) 0 inside: root in \(label(box, .user)), \(range.outside) outside")
      }
      return lines
    case .unshare(let box, let kinds, _):
      let labels = kinds.map { label(box, $0) }.joined(separator: " ")
      return ["\(box) has new namespaces: \(labels)"]
    case .join(let box, let kind, let target):
      return ["\(box) joined \(target)'s \(kind.rawValue) namespace: \(label(box, kind))"]
    case .setHostname(let box, let name):
      return ["\(box)'s hostname is now \(JSON.quote(name)) in \(label(box, .uts)); the host keeps its own"]
    case .setDomainname(let box, let name):
      return ["\(box)'s domain name is now \(JSON.quote(name)) in \(label(box, .uts)); the host keeps its own"]
    }
  }
}

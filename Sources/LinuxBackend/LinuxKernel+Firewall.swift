import Glibc
import HelperWire
import Kernel

/// nftables in the lab's host side. boxwalk drives Debian's nft(8) (package nftables): the host
/// side's helper spawns it (posix_spawn(3)) with the helper's own capabilities, so it talks NETLINK_NETFILTER in the helper's network
/// namespace and changes that namespace's ruleset only, never the machine's. Every rule is in
/// one table, `ip boxwalk`, which dies with the namespace at teardown: nothing is ever deleted
/// rule by rule, and nothing is left behind.
extension LinuxKernel {
  func masquerade(bridge: String, subnet: IPv4CIDR, step: Step) throws(KernelError) {
    let host = try hostSide(step: step)
    let t = NetRule.table
    let rule = NetRule.masquerade(subnet, leavingBy: bridge)
    // One nft invocation is one netlink batch: the table, the chain and the rule, or nothing.
    let script =
      "add table ip \(t); add chain ip \(t) postrouting { type nat hook postrouting priority srcnat; }; "
      + "add rule ip \(t) postrouting \(rule.text)"
    try nft(host, [script], step: step)
    hostRulesMade = true
  }

  /// A published port: the prerouting chain (hook NF_INET_PRE_ROUTING at priority dstnat, where
  /// destination NAT happens before the routing decision) and the rule, in one batch.
  func publish(_ hostPort: Int, _ proto: String, to address: IPv4Address, port: Int, step: Step) throws(KernelError) {
    let host = try hostSide(step: step)
    let t = NetRule.table
    let rule = NetRule.publish(hostPort, proto, to: address, port: port)
    let script =
      "add table ip \(t); add chain ip \(t) prerouting { type nat hook prerouting priority dstnat; }; "
      + "add rule ip \(t) prerouting \(rule.text)"
    try nft(host, [script], step: step)
    hostRulesMade = true
  }

  /// The rules of boxwalk's table in the host side, as `nft list table ip boxwalk` prints them;
  /// empty when boxwalk never made the table (nft is not run at all then).
  func hostRules(step: Step?) throws(KernelError) -> [NetRule] {
    guard hostRulesMade, let host = hostNetwork else { return [] }
    return Self.parseRules(try nft(host, ["list", "table", "ip", NetRule.table], step: step))
  }

  /// `nft list table` text to rules: the lines inside each chain but its header (`type ... ;`).
  static func parseRules(_ lines: [String]) -> [NetRule] {
    var rules: [NetRule] = []
    var chain: String?
    for raw in lines {
      let line = raw.trimmingCharacters(in: " \t")
      let words = line.split(separator: " ")
      if words.count == 3, words[0] == "chain", words[2] == "{" {
        chain = String(words[1])
      } else if line == "}" {
        chain = nil
      } else if let chain, !line.isEmpty, !line.hasPrefix("type ") {
        rules.append(NetRule(chain: chain, text: line))
      }
    }
    return rules
  }

  /// Runs nft with `arguments` in `helper`'s namespaces, and returns what it printed; a failure
  /// becomes the step's error with nft's own first line.
  @discardableResult
  private func nft(_ helper: HelperProcess, _ arguments: [String], step: Step?) throws(KernelError) -> [String] {
    // The step's first call (its nftables batch), or, outside any step, nft itself.
    func failure(_ errno: Errno, _ detail: String) -> KernelError {
      guard let step else { return KernelError(call: "nft", errno: errno, detail: detail) }
      return KernelError(step: step, call: step.firstCall, errno: errno, detail: detail)
    }
    let reply = try exchange(helper, .nft(arguments: arguments.map { Array($0.utf8) }), step: step)
    if case .err(let errno, let failed, _) = reply {
      throw failure(
        Errno(rawValue: errno),
        errno == ENOENT && failed == .execvp
          ? "nft(8) is not installed on this machine (Debian: apt-get install nftables)" : "running nft(8)")
    }
    guard let run = reply.answer(as: ToolRun.self) else {
      throw failure(.EPROTO, "unexpected reply to running nft")
    }
    let lines = String(decoding: run.output, as: UTF8.self).split(separator: "\n").map(String.init)
    guard run.end == .exited(0) else {
      let message = lines.first { $0.hasPrefix("Error:") } ?? lines.first ?? "nft failed"
      throw failure(.EINVAL, "nft(8): \(message)")
    }
    return lines
  }
}

extension String {
  fileprivate func trimmingCharacters(in set: String) -> String {
    let drop = Set(set)
    var s = Substring(self)
    while let c = s.first, drop.contains(c) { s = s.dropFirst() }
    while let c = s.last, drop.contains(c) { s = s.dropLast() }
    return String(s)
  }
}

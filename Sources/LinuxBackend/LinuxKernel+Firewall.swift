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
    try nftBatch(host, script, step: step)
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
    try nftBatch(host, script, step: step)
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

  /// The step's one entry, its nftables batch: nft(8) run by the host side's helper with
  /// `script`.
  private func nftBatch(_ host: HelperProcess, _ script: String, step: Step) throws(KernelError) {
    let answers = try make(step) { entry throws(KernelError) in
      guard case .nftables = entry else { throw unplanned(entry, step) }
      return .helper(.net(.nft(arguments: [Array(script.utf8)])), host)
    }
    let run = answers.answer(where: { $0.kind == .nftables }, as: ToolRun.self)
    _ = try Self.nftLines(
      run,
      failure: { errno, detail in
        KernelError(step: step, call: step.entry(.nftables), errno: errno, detail: detail)
      })
  }

  /// Runs nft with `arguments` in `helper`'s namespaces, and returns what it printed; a failure
  /// becomes the step's error with nft's own first line.
  @discardableResult
  private func nft(_ helper: HelperProcess, _ arguments: [String], step: Step?) throws(KernelError) -> [String] {
    // The step's first call, or, outside any step, nft itself.
    func failure(_ errno: Errno, _ detail: String) -> KernelError {
      guard let step else { return KernelError(call: "nft", errno: errno, detail: detail) }
      return KernelError(step: step, call: step.firstCall, errno: errno, detail: detail)
    }
    let call = HelperCall.net(.nft(arguments: arguments.map { Array($0.utf8) }))
    let reply = try exchange(helper, .calls([call]), step: step)
    if case .err(let errno, _, let note) = reply {
      throw failure(Errno(rawValue: errno), note ?? "running nft(8)")
    }
    return try Self.nftLines(reply.answer(as: CallAnswers.self)?.answer(0, as: ToolRun.self), failure: failure)
  }

  /// nft's output lines, or the failure its exit status says: its own "Error:" line.
  private static func nftLines(_ run: ToolRun?, failure: (Errno, String) -> KernelError) throws(KernelError)
    -> [String]
  {
    guard let run else { throw failure(.EPROTO, "unexpected reply to running nft") }
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

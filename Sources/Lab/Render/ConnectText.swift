import Kernel

/// What `connect` prints: whether the handshake completed, the path with every address a rule
/// rewrote, and when it did not, what is missing (the ping reasons, a published port, a
/// listener) and the command that adds it. Never a timing.
struct ConnectText {
  var ping: PingText
  /// "tcp" or "udp": a connection and its SYN, or a datagram.
  var proto: String = "tcp"

  var udp: Bool { proto == "udp" }

  func lines(_ address: IPv4Address, _ port: Int, from who: String, _ verdict: ConnectVerdict, answer: String? = nil)
    -> [String]
  {
    let target = "\(address):\(port)"
    var rows: [(String, String)] = []
    let headline: String
    switch verdict {
    case .connected(let path, let rewrites, let published):
      headline = udp ? "\(target) answered a udp datagram from \(who)" : "connected to \(target) from \(who)"
      rows.append(("path", path.map(\.description).joined(separator: " -> ")))
      for r in rewrites {
        rows.append(
          (
            "nat",
            "\(PingText.prose(r.namespace)) rewrote the source \(r.original) to \(r.rewritten) on the way out (\(r.rule.text)), and the answer's destination back"
          ))
      }
      if let p = published {
        rows.append(
          (
            "dnat",
            "\(PingText.prose(p.namespace)) rewrote the destination \(target) to \(p.rewritten):\(p.rewrittenPort) on the way in (\(p.rule.text)), and the answer's source back"
          ))
      }
      if let answer, let server = path.last {
        rows.append(
          (
            "answer",
            "\(JSON.quote(answer)): the responder in \(PingText.prose(server.owner)) sent back the line \(JSON.quote(ConnectModel.greeting)) with the address it came from"
          ))
      } else {
        rows.append(("answer", "none: nothing answered the line \(JSON.quote(ConnectModel.greeting))"))
      }
    case .refused(let ns, let to, let toPort, let published):
      let place = PingText.prose(ns)
      headline =
        udp
        ? "\(target) refused the udp datagram from \(who): nothing listens on udp port \(toPort) in \(place)"
        : "\(target) refused the connection from \(who): nothing listens on port \(toPort) in \(place)"
      if let p = published {
        rows.append(
          (
            "dnat",
            "\(PingText.prose(p.namespace)) rewrote the destination \(target) to \(to):\(toPort) (\(p.rule.text))"
          ))
      }
      let publishes = ns == NetSide.host.name && published == nil && who != NetSide.host.name
      let udpWord = udp ? " udp" : ""
      rows.append(
        (
          "why",
          udp
            ? "the datagram reached \(place), where no socket is bound to udp port \(toPort)"
              + (publishes ? " and no rule publishes udp port \(toPort)" : "")
              + ", so the kernel answered with ICMP port unreachable, which a connected UDP socket reports as ECONNREFUSED"
            : "the SYN reached \(place), where no socket listens on port \(toPort)"
              + (publishes ? " and no rule publishes port \(toPort)" : "")
              + ", so the kernel answered with a reset (ECONNREFUSED)"
        ))
      rows.append(
        (
          "fix",
          publishes
            ? "net publish \(port) BOX:PORT\(udpWord) (to a box that listens), or net listen \(toPort)\(udpWord) --on host"
            : "net listen \(toPort)\(udpWord) --on \(ns)"
        ))
    case .unreachable(let failure):
      headline =
        udp
        ? "no answer from \(target) to a udp datagram from \(who): \(ping.short(failure))"
        : "could not connect to \(target) from \(who): \(ping.short(failure))"
      rows.append(("why", ping.why(failure, address)))
      if let fix = ping.fix(failure) { rows.append(("fix", fix)) }
    }
    return [headline] + rows.map { "  " + $0.0.padding(7) + "  " + $0.1 }
  }

  /// What the kernel's answer was, in words, for a disagreement note.
  static func outcome(_ o: ConnectOutcome) -> String {
    switch o {
    case .connected: "connected"
    case .refused: "refused (ECONNREFUSED)"
    case .unreachable(let errno): "not sent (\(errno))"
    case .timedOut: "no answer in time"
    }
  }
}

import CShim
import Glibc
import HelperWire
import Kernel
import NetWire

/// Networking on the real kernel. Every request is an rtnetlink(7) message built here (NetWire)
/// and sent by the helper that lives in the network namespace it is about: a box's helper for
/// the box's side, and for the host side a helper of its own that did nothing but unshare(2) a
/// network namespace (the machine's network is never touched). That helper starts with
/// the first step that needs the host side, is in the ledger like any helper, and dies at
/// teardown; its namespace dies with it, and every veth with the namespace.
extension LinuxKernel {
  func performNet(_ s: NetStep, _ step: Step) throws(KernelError) -> StepResult {
    switch s {
    case .ping(let side, let address):
      return StepResult(ping: try ping(side, address, step: step))
    case .connect(let side, let address, let port, let proto):
      return try connect(side, address, port, proto, step: step)
    case .netOutside:
      try makeOutside(step: step)
    case .netForward(let on):
      try setForward(on, step: step)
    case .netNAT(let bridge, let subnet):
      try masquerade(bridge: bridge, subnet: subnet, step: step)
    case .netPublish(let hostPort, let proto, _, let address, let port):
      try publish(hostPort, proto, to: address, port: port, step: step)
    case .netVeth, .netBridge, .netAttach, .netAddr, .netState, .netRoute, .netListen:
      try make(step) { entry throws(KernelError) in try making(s, entry, step) }
    }
    return .none
  }

  /// How each entry of a link, address, route or listener step is made: every one by the helper
  /// of the network namespace it is about, the rtnetlink(7) message built here (NetWire).
  private func making(_ s: NetStep, _ entry: SystemCall, _ step: Step) throws(KernelError) -> Making {
    switch (s, entry) {
    case (.netVeth(let box, let hostLink, let boxLink), .rtnetlink):
      let peer = try networkHelper(.box(box), step: step)
      let host = try hostSide(step: step)
      try awaitDyingLink(hostLink, in: host, step: step)
      // One message makes both ends, the peer directly in the box's namespace (veth_newlink):
      // nothing is ever half made.
      let message = RouteRequest.newVeth(
        name: hostLink, peer: boxLink, peerNamespacePID: UInt32(peer.pid), sequence: sequence())
      return .helper(.net(.rtnetlink(message)), host)
    case (.netBridge(let name), .rtnetlink):
      return .helper(
        .net(.rtnetlink(RouteRequest.newBridge(name: name, sequence: sequence()))), try hostSide(step: step))
    case (.netAttach(let link, let bridge), .rtnetlink):
      // IFLA_MASTER names the bridge by index, which only the kernel knows: asked first.
      let host = try hostSide(step: step)
      let index = try linkIndex(bridge, in: host, step: step)
      return .helper(
        .net(.rtnetlink(RouteRequest.setMaster(name: link, masterIndex: index, sequence: sequence()))), host)
    case (.netAddr(let ref, let cidr), .rtnetlink):
      let helper = try networkHelper(ref.side, step: step)
      return .helper(.net(.rtnetlink(try newAddress(ref.name, cidr, in: helper, step: step))), helper)
    case (.netState(let ref, let up), .rtnetlink):
      let helper = try networkHelper(ref.side, step: step)
      return .helper(.net(.rtnetlink(RouteRequest.setUp(name: ref.name, up: up, sequence: sequence()))), helper)
    case (.netRoute(let box, let gateway), .rtnetlink):
      let helper = try networkHelper(.box(box), step: step)
      return .helper(
        .net(.rtnetlink(RouteRequest.newDefaultRoute(gateway: gateway.bytes, sequence: sequence()))), helper)
    case (.netListen(let side, _, let proto), .socket):
      return .helper(.net(.socket(kind: proto == "udp" ? "udp" : "tcp")), try networkHelper(side, step: step))
    case (.netListen(let side, let port, let proto), .bind):
      // A UDP listener ends at bind(2): from then on the helper answers its datagrams.
      return .helper(.net(.bind(port: Int32(port), serve: proto == "udp")), try networkHelper(side, step: step))
    case (.netListen(let side, _, _), .listen):
      return .helper(.net(.listen), try networkHelper(side, step: step))
    default:
      throw unplanned(entry, step)
    }
  }

  /// RTM_NEWADDR for the link `name` in `helper`'s namespace, which it names by index (asked
  /// with if_nametoindex(3) there).
  private func newAddress(_ name: String, _ cidr: IPv4CIDR, in helper: HelperProcess, step: Step)
    throws(KernelError) -> [UInt8]
  {
    let index = try linkIndex(name, in: helper, step: step)
    return RouteRequest.newAddress(
      index: index, address: cidr.address.bytes, prefixLength: UInt8(cidr.prefixLength), sequence: sequence())
  }

  /// One echo. When the model expects a reply, the helper waits up to 2 s for it (it comes in
  /// well under a millisecond); when it expects none, 300 ms is plenty to catch a reply the model
  /// did not expect. The time never reaches the output.
  private func ping(_ side: NetSide, _ address: IPv4Address, step: Step) throws(KernelError) -> PingAnswer {
    let helper = try networkHelper(side, step: step)
    let expected =
      (try? facts()).map { PingModel.ping(NetworkView($0), from: side.name, to: address).reachable } ?? true
    let timeout: Int32 = expected ? 2000 : 300
    let answers: PlanAnswers
    do {
      answers = try make(step) { entry throws(KernelError) in
        switch entry {
        case .socket: .helper(.net(.socket(kind: "icmp")), helper)
        case .sendEcho: .helper(.net(.sendEcho(address: address.bytes)), helper)
        case .receiveEchoReply: .helper(.net(.receiveEchoReply(address: address.bytes, timeout: timeout)), helper)
        default: throw unplanned(entry, step)
        }
      }
    } catch {
      // The kernel refused to send: no route (the model's "no route to ...").
      if error.failed?.kind == .sendEcho, Self.unreachable.contains(error.errno) {
        return PingAnswer(reachable: false, sendErrno: error.errno)
      }
      throw error
    }
    guard let outcome = answers.answer(where: { $0.kind == .receiveEchoReply }, as: EchoOutcome.self) else {
      throw KernelError(
        step: step, call: step.entry(.receiveEchoReply), errno: .EPROTO, detail: "unexpected reply from a helper")
    }
    return PingAnswer(reachable: outcome == .reply)
  }

  /// The errnos of a packet the kernel would not send: no route, or a link down on the way.
  static let unreachable: [Errno] = [.ENETUNREACH, .EHOSTUNREACH, .ENETDOWN]

  /// One connect by the side's helper: a line sent, one awaited. As for ping, the wait is long
  /// when the model expects an answer and short when it expects none; the time never reaches
  /// the output.
  private func connect(_ side: NetSide, _ address: IPv4Address, _ port: Int, _ proto: String, step: Step)
    throws(KernelError) -> StepResult
  {
    let helper = try networkHelper(side, step: step)
    let expected = (try? facts()).map {
      ConnectModel.connect(NetworkView($0), from: side.name, to: address, port: port, proto: proto).outcome(
        from: side.name, NetworkView($0), proto: proto)
    }
    let timeout: Int32 = expected == .timedOut ? 300 : 2000
    var result = StepResult.none
    let answers: PlanAnswers
    do {
      answers = try make(step) { entry throws(KernelError) in
        switch entry {
        case .socket: .helper(.net(.socket(kind: proto == "udp" ? "udp" : "tcp")), helper)
        case .connect: .helper(.net(.connect(address: address.bytes, port: Int32(port), timeout: timeout)), helper)
        case .send(let line): .helper(.net(.send(line: Array(line.utf8))), helper)
        case .receive: .helper(.net(.receive), helper)
        default: throw unplanned(entry, step)
        }
      }
    } catch {
      if [.connect, .send].contains(error.failed?.kind), Self.unreachable.contains(error.errno) {
        result.connect = .unreachable(error.errno)
        return result
      }
      throw error
    }
    // The entry that ended the exchange answers how it ended (the ones after it answer nothing).
    let ends: [SystemCall.Kind] = [.connect, .send, .receive]
    switch ends.lazy.compactMap({ kind in answers.answer(where: { $0.kind == kind }, as: ExchangeResult.self) }).first {
    case .answered(let text):
      result.connect = .connected
      result.answer = text
    case .connected: result.connect = .connected
    case .refused: result.connect = .refused
    case .timeout: result.connect = .timedOut
    case nil:
      throw KernelError(
        step: step, call: step.entry(.receive), errno: .EPROTO, detail: "unexpected reply from a helper")
    }
    return result
  }

  /// net.ipv4.ip_forward of the host side, written by its helper: /proc/sys/net is the namespace
  /// of the process that opens it, so the machine's own value is never written. boxwalk checks
  /// that anyway: the machine's value (read by boxwalk's process, which is in the machine's
  /// namespace) must be what it was before.
  private func setForward(_ on: Bool, step: Step) throws(KernelError) {
    let host = try hostSide(step: step)
    let machineBefore = try? SmallFiles.readText("/proc/sys/net/ipv4/ip_forward")
    try make(step) { entry throws(KernelError) in
      guard case .writeIPForward = entry else { throw unplanned(entry, step) }
      return .helper(.net(.writeIPForward(on)), host)
    }
    let machineAfter = try? SmallFiles.readText("/proc/sys/net/ipv4/ip_forward")
    guard machineBefore == machineAfter else {
      throw KernelError(
        step: step, call: step.firstCall, errno: .EPROTO,
        detail: "the machine's own net.ipv4.ip_forward changed; boxwalk wrote only its host side's (please report this)"
      )
    }
  }

  /// The outside: a helper alone in a network namespace of its own (held and ledgered like the
  /// host side's), then one veth from the host side with its peer made directly in the outside,
  /// and an address and IFF_UP at each end. The outside's helper is started by the step's own
  /// fork and execve entries, so its entries name it once it is there (`.helperAfter`).
  private func makeOutside(step: Step) throws(KernelError) {
    let host = try hostSide(step: step)
    guard outsideNetwork == nil else {
      throw KernelError(
        step: step, call: step.entry(.rtnetlink), errno: .EEXIST, detail: "the outside is already there")
    }
    let session = try ensureSession(step: step)
    let start = HelperStart(Owner.outside.name)
    let o = OutsideNet.self
    /// The outside's helper, once the entries that start it are made.
    func outside() throws(KernelError) -> HelperProcess {
      guard let helper = start.helper else { throw unplanned(step.firstCall, step) }
      return helper
    }
    try make(step) { entry throws(KernelError) in
      if let making = starting(entry, start) { return making }
      switch entry {
      case .unshare:
        // The outside's helper unshares its network namespace (asked with `unshare`), after
        // boxwalk wrote it in the ledger; then it is the lab's outside (labNetworkSetup).
        return .here { () throws(EntryFailure) in
          do throws(KernelError) {
            let helper = try outside()
            try self.labNetworkSetup(helper, .outside, session, step: step)
            self.outsideNetwork = helper
          } catch {
            throw EntryFailure(error.errno, detail: error.detail)
          }
        }
      case .rtnetlink(.newVeth(let name, let peer, _)):
        // From the host side, its peer made directly in the outside's namespace.
        return .helperAfter { () throws(KernelError) in
          let pid = UInt32(try outside().pid)
          let message = RouteRequest.newVeth(name: name, peer: peer, peerNamespacePID: pid, sequence: self.sequence())
          return (.net(.rtnetlink(message)), host)
        }
      case .rtnetlink(.newAddress(let link, let cidr)):
        // The link's index exists only once the veth is made: asked then.
        return .helperAfter { () throws(KernelError) in
          let helper = link == o.outsideLink ? try outside() : host
          return (.net(.rtnetlink(try self.newAddress(link, cidr, in: helper, step: step))), helper)
        }
      case .rtnetlink(.setUp(let link, let up)):
        return .helperAfter { () throws(KernelError) in
          let helper = link == o.outsideLink ? try outside() : host
          return (.net(.rtnetlink(RouteRequest.setUp(name: link, up: up, sequence: self.sequence()))), helper)
        }
      default:
        throw unplanned(entry, step)
      }
    }
  }

  private func sequence() -> UInt32 {
    netlinkSequence &+= 1
    return netlinkSequence
  }

  private func dump(_ helper: HelperProcess, pids: [Int32] = [], step: Step?) throws(KernelError) -> Dump {
    try dump(of: helper, from: try exchange(helper, .netdump(pids: pids), step: step), step: step)
  }

  /// The dump in `helper`'s reply to `netdump`.
  func dump(of helper: HelperProcess, from reply: HelperReply, step: Step?) throws(KernelError) -> Dump {
    guard let dump = reply.answer(as: NetworkDump.self) else {
      if case .err(let errno, let call, let note) = reply {
        throw KernelError(
          step: step, call: "\(call.name)(NETLINK_ROUTE)", errno: Errno(rawValue: errno),
          detail: "reading the network of \(helper === hostNetwork ? "the host side" : helper.box)"
            + (note.map { ": \($0)" } ?? ""))
      }
      throw KernelError(
        step: step, call: "recvmsg(NETLINK_ROUTE)", errno: .EPROTO, detail: "unexpected reply from a helper")
    }
    return Dump(text: dump.text)
  }

  /// RTM_NEWADDR and IFLA_MASTER name links by index, which only the kernel knows: the helper
  /// asks with if_nametoindex(3) in its own network namespace, as the step's syscall line says.
  private func linkIndex(_ name: String, in helper: HelperProcess, step: Step) throws(KernelError) -> UInt32 {
    let reply = try exchange(helper, .ifindex(name: name), step: step)
    if let link = reply.answer(as: LinkIndex.self) { return link.index }
    guard case .err(let errno, _, _) = reply else {
      throw KernelError(step: step, call: step.firstCall, errno: .EPROTO, detail: "unexpected reply from a helper")
    }
    guard errno == ENODEV else {
      throw KernelError(
        step: step, call: step.firstCall, errno: Errno(rawValue: errno), detail: "if_nametoindex(\"\(name)\")")
    }
    throw KernelError(step: step, call: step.firstCall, errno: .ENODEV, detail: "no link named \(name)")
  }

  /// A veth whose other namespace died is on its way out: the kernel unregisters it from a work
  /// queue a few milliseconds later. facts() does not show it; a new link that wants its name
  /// waits for it to go (at most 2 s, then the kernel's EEXIST speaks).
  private func awaitDyingLink(_ name: String, in helper: HelperProcess, step: Step) throws(KernelError) {
    for _ in 0..<1000 {
      guard dyingLinks(helper).contains(name) else { return }
      usleep(2000)
    }
  }

  /// After a step that may end a network namespace (box rm, unshare net, join net): wait until
  /// the kernel has finished it. A namespace whose last process died is dismantled by a work
  /// queue a few milliseconds later, and until then its links still pass packets and answer
  /// pings; the simulator (and the learner) expect it gone. The sign that it is gone: no veth on
  /// the host side has its peer outside the live lab namespaces. At most 2 s.
  func settleNetwork() {
    guard let host = hostNetwork else { return }
    for _ in 0..<1000 {
      guard !dyingLinks(host).isEmpty else { return }
      usleep(2000)
    }
  }

  /// The veths in `helper`'s namespace whose peer is in no live lab namespace: the namespace of
  /// the peer is being dismantled (its id is -1, or one no live helper's namespace has).
  private func dyingLinks(_ helper: HelperProcess) -> Set<String> {
    let machine = try? procfs.namespaceInode(pid: "self", shown: "self", kind: .net)
    let lab = (helpers + (hostNetwork.map { [$0] } ?? []) + (outsideNetwork.map { [$0] } ?? [])).filter {
      $0.pid != helper.pid && (try? procfs.namespaceInode(pid: String($0.pid), shown: $0.box, kind: .net)) != machine
    }
    guard let dump = try? dump(helper, pids: lab.map { Int32($0.pid) }, step: nil) else { return [] }
    let live = Set(dump.namespaceIDs.map(\.nsid).filter { $0 >= 0 })
    return Set(
      dump.links.filter { $0.kind == NetLinkFacts.veth && $0.linkNamespaceID.map { !live.contains($0) } == true }
        .map(\.name))
  }

  // MARK: Facts

  /// The lab's network namespaces, each once, with the helper that reads it: the host side (if
  /// the lab has one), the outside (if made) and every box with a network namespace of its own.
  /// A member is known by its Owner; its name is written only into the facts (a veth peer's
  /// NetEndpoint).
  struct NetworkMembers {
    typealias Member = (owner: Owner, helper: HelperProcess, inode: UInt64?)
    var members: [Member] = []

    /// The pids to ask `member`'s namespace for ids of: every other member's helper. A veth's
    /// peer is found through the id its namespace gives the other (IFLA_LINK_NETNSID, RTM_GETNSID).
    func others(than member: Member) -> [Int32] {
      members.filter { $0.helper.pid != member.helper.pid }.map { Int32($0.helper.pid) }
    }
  }

  func networkMembers(machine: UInt64?, boxes: [(HelperProcess, [NamespaceKind: UInt64])]) -> NetworkMembers {
    var network = NetworkMembers()
    if let side = hostNetwork { network.members.append((.labHost, side, nil)) }
    if let side = outsideNetwork { network.members.append((.outside, side, nil)) }
    var seen: Set<UInt64> = []
    for (helper, namespaces) in boxes {
      guard let inode = namespaces[.net], inode != machine, seen.insert(inode).inserted else { continue }
      network.members.append((.box(helper.box), helper, inode))
    }
    return network
  }

  /// Fill in `net` for the host side and every box that has a network namespace of its own, from
  /// one dump of each lab namespace (`dumps`, in the order of `network.members`).
  func addNetworkFacts(
    _ network: NetworkMembers, dumps: [Dump], host: inout ProcessFacts, boxes: inout [BoxFacts],
    outside: inout NetFacts?
  ) {
    let members = network.members
    let machine = host.namespaces[.net]
    var nets = dumps.indices.map {
      NetworkFacts.resolve(dumps, names: members.map(\.owner.name), pids: members.map { Int32($0.helper.pid) }, at: $0)
    }
    for k in members.indices { nets[k].listening = listening(pid: members[k].helper.pid) }
    host.net = members.firstIndex { $0.owner == .labHost }.map { nets[$0] } ?? .fresh
    outside = members.firstIndex { $0.owner == .outside }.map { nets[$0] }
    for i in boxes.indices {
      guard let inode = boxes[i].process.namespaces[.net], inode != machine,
        let k = members.firstIndex(where: { $0.inode == inode })
      else { continue }
      boxes[i].process.net = nets[k]
    }
  }

  /// The listening TCP sockets and bound UDP sockets of the network namespace `pid` is in:
  /// /proc/PID/net/tcp and /proc/PID/net/udp show the sockets of that process's network namespace
  /// (proc_net_tcp(5); udp has the same columns), read here by boxwalk, which needs no helper
  /// for it. State 0A is TCP_LISTEN; a UDP socket that waits for anyone's datagrams has no peer
  /// and shows state 07 (TCP_CLOSE), where a connected one shows 01.
  ///
  /// /proc/PID/net/tcp finds the namespace's sockets by walking the kernel's whole table of
  /// established connections, one table for every namespace and sized by the machine's memory:
  /// several milliseconds per read, whatever the namespace holds. /proc/PID/net/sockstat counts
  /// the namespace's own sockets in use (proc(5)) in microseconds, so the tables are read only
  /// when something in the namespace has a socket.
  func listening(pid: pid_t) -> [NetListener] {
    let counts = (try? SmallFiles.readText("\(procfs.root)/\(pid)/net/sockstat")).map(Self.socketsInUse)
    let tcp =
      counts?.tcp == 0
      ? [] : (try? SmallFiles.readText("\(procfs.root)/\(pid)/net/tcp")).map { Self.parseListening($0) } ?? []
    let udp =
      counts?.udp == 0
      ? []
      : (try? SmallFiles.readText("\(procfs.root)/\(pid)/net/udp")).map { Self.parseListening($0, proto: "udp") }
        ?? []
    return (tcp + udp).sorted()
  }

  /// The TCP and UDP sockets in use in a namespace, from its sockstat: `TCP: inuse N ...` and
  /// `UDP: inuse N ...`. nil for a count the text does not have (then the table is read).
  static func socketsInUse(_ text: String) -> (tcp: Int?, udp: Int?) {
    var tcp: Int?
    var udp: Int?
    for line in text.split(separator: "\n") {
      let fields = line.split(separator: " ")
      guard fields.count >= 3, fields[1] == "inuse", let n = Int(fields[2]) else { continue }
      if fields[0] == "TCP:" { tcp = n } else if fields[0] == "UDP:" { udp = n }
    }
    return (tcp, udp)
  }

  /// proc_net_tcp(5) lines to listeners: `sl local_address rem_address st ...`, the local
  /// address as 8 hex digits in the kernel's byte order (little-endian on x86 and arm64) and the
  /// port as 4 hex digits.
  static func parseListening(_ text: String, proto: String = "tcp") -> [NetListener] {
    var found: Set<NetListener> = []
    for line in text.split(separator: "\n").dropFirst() {
      let fields = line.split(separator: " ")
      guard fields.count > 3, fields[3] == (proto == "udp" ? "07" : "0A") else { continue }
      let local = fields[1].split(separator: ":")
      guard local.count == 2, let raw = UInt32(local[0], radix: 16), let port = Int(local[1], radix: 16) else {
        continue
      }
      found.insert(NetListener(address: IPv4Address(raw.byteSwapped), port: port, proto: proto))
    }
    return found.sorted()
  }
}

/// Turning dumps into facts: pure, so it is tested without root.
enum NetworkFacts {
  /// The facts of namespace `i`, given every lab namespace's dump, name and helper pid.
  static func resolve(_ dumps: [Dump], names: [String], pids: [Int32], at i: Int) -> NetFacts {
    let dump = dumps[i]
    var byIndex: [Int32: LinkRecord] = [:]
    for link in dump.links { byIndex[link.index] = link }
    var links: [NetLinkFacts] = []
    for link in dump.links.sorted(by: { $0.index < $1.index }) where NetFacts.shownKinds.contains(link.kind) {
      var peer: NetEndpoint?
      if link.kind == NetLinkFacts.veth, let peerIndex = link.link {
        if let nsid = link.linkNamespaceID {
          // The peer is in another namespace. No lab namespace with that id (or -1): it is dying,
          // and this end goes with it.
          guard nsid >= 0, let pid = dump.namespaceIDs.first(where: { $0.nsid == nsid })?.pid,
            let j = pids.firstIndex(of: pid), let other = dumps[j].links.first(where: { $0.index == peerIndex })
          else { continue }
          peer = NetEndpoint(names[j], other.name)
        } else if let other = byIndex[peerIndex] {
          peer = NetEndpoint(names[i], other.name)
        }
      }
      let addrs = dump.addresses.filter { $0.index == link.index }.compactMap { a in
        IPv4Address(bytes: a.address).map { IPv4CIDR($0, Int(a.prefixLength)) }
      }
      links.append(
        NetLinkFacts(
          name: link.name, kind: link.kind, up: link.isUp, master: link.master.flatMap { byIndex[$0]?.name },
          peer: peer,
          addrs: addrs, index: Int(link.index), mac: link.mac))
    }
    let shown = Set(links.map(\.name))
    let routes = dump.routes.compactMap { r -> NetRouteFacts? in
      guard let device = byIndex[r.outputIndex]?.name, shown.contains(device),
        let dst = IPv4Address(bytes: r.destination)
      else { return nil }
      return NetRouteFacts(
        destination: IPv4CIDR(dst, Int(r.prefixLength)), gateway: r.gateway.flatMap { IPv4Address(bytes: $0) },
        device: device)
    }
    var facts = NetFacts(links: links, routes: routes)
    facts.forward = dump.forward ?? false
    return facts
  }
}

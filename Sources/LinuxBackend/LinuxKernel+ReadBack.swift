import Glibc
import HelperWire
import Kernel

extension LinuxKernel {
  /// The facts after a step, reading again only the boxes `scope` names (`Step.readBack`), the
  /// host's own facts and the image store when it names them; every other box keeps its facts
  /// from `previous`. A box read here costs what it did in a full read (its helper's answer,
  /// /proc/PID/ns/*, status, children, timens_offsets, its cgroup), so a step costs what it
  /// reaches, not the number of boxes.
  ///
  /// Two parts of a box are read only by a full read, because what they show depends on other
  /// namespaces, and every step that can change them reads everything (`Step.readBack`):
  /// - its mounts: a mount made in another lab mount namespace shows here when it propagated
  ///   (mount_namespaces(7)), found by comparing every lab namespace's mountinfo;
  /// - the network of a namespace with more than its loopback: a veth's peer is named through the
  ///   other namespaces' ids for it (IFLA_LINK_NETNSID).
  /// Here they are taken from `previous` while the box is still in the same namespace; a box in
  /// a network namespace with only its loopback (a new one) has it read from that namespace alone.
  public func facts(_ scope: ReadBack, previous: KernelFacts) throws(KernelError) -> KernelFacts {
    var facts = previous
    try readBack(scope, into: &facts)
    return facts
  }

  /// The same, merged into `previous` where it is (`ReadBack.merge(into:...)`): the boxes not
  /// read are not copied.
  public func readBack(_ scope: ReadBack, into previous: inout KernelFacts) throws(KernelError) {
    if scope.everything {
      previous = try facts()
      return
    }
    var host = previous.host
    if scope.host {
      // The host's network and the lab's rules stay: only a network step changes them.
      let net = host.net
      host = try hostProcessFacts()
      host.net = net
    }
    let store = scope.images ? try storeFacts() : (previous.images, previous.layers)
    guard let reading = try boxesToRead(scope.boxes, previous: previous, host: host.namespaces) else {
      previous = try facts()
      return
    }
    var boxes = try read(reading, host: host)
    Self.spreadReadBackDeaths(&boxes, previous: previous, host: host.namespaces)
    if !ReadBack.apply(to: &previous, list: pool, fresh: boxes, host: host, images: store) {
      previous = try facts()
    }
  }

  /// A box to read back: its helper, its facts before the step (nil for a new box), and the
  /// namespaces it is in now.
  typealias BoxReading = (helper: HelperProcess, before: ProcessFacts?, ns: [NamespaceKind: UInt64])

  /// The boxes of `names` that still have a helper, with their namespaces now; nil when one is in
  /// a mount namespace of its own that it was not in before: its mounts need every other lab
  /// namespace's mountinfo (see `facts(_:previous:)`), so everything is read. No step that reads
  /// part of the state does this.
  private func boxesToRead(
    _ names: [String], previous: KernelFacts, host: [NamespaceKind: UInt64]
  ) throws(KernelError) -> [BoxReading]? {
    var reading: [BoxReading] = []
    for name in names {
      guard let helper = helper(named: name) else { continue }
      let before = previous.box(name)?.process
      let ns = try namespaces(pid: String(helper.pid), shown: "<\(helper.box)>")
      if ns[.mnt] != host[.mnt], before?.namespaces[.mnt] != ns[.mnt] { return nil }
      reading.append((helper, before, ns))
    }
    return reading
  }

  /// Whether the box's network is read here, from its namespace alone: a namespace of the lab's
  /// that is new to it, or that still has only its loopback.
  private static func readsNet(_ entry: BoxReading, host: [NamespaceKind: UInt64]) -> Bool {
    guard let inode = entry.ns[.net], inode != host[.net] else { return false }
    guard let before = entry.before, before.namespaces[.net] == inode, let net = before.net else { return true }
    return !net.links.contains { $0.name != "lo" }
  }

  /// Reads the boxes as a full read does: every helper is asked first and /proc is read while
  /// they answer; then the answers, in the order asked (every helper's facts, then the dumps).
  private func read(_ reading: [BoxReading], host: ProcessFacts) throws(KernelError) -> [BoxFacts] {
    let hostNamespaces = host.namespaces
    var boxes: [BoxFacts] = []
    var asked: [HelperProcess] = []
    do throws(KernelError) {
      for entry in reading {
        try post(entry.helper, .facts(candidates: candidateQueueNames()), step: nil)
        asked.append(entry.helper)
      }
      for entry in reading where Self.readsNet(entry, host: hostNamespaces) {
        try post(entry.helper, .netdump(pids: []), step: nil)
        asked.append(entry.helper)
      }
      for entry in reading {
        var process = try outsideFacts(
          of: entry.helper, namespaces: entry.ns, hostMount: hostNamespaces[.mnt], mounts: .kept(entry.before))
        if entry.ns[.net] != hostNamespaces[.net], !Self.readsNet(entry, host: hostNamespaces) {
          process.net = entry.before?.net
        }
        boxes.append(BoxFacts(name: entry.helper.box, process: process))
      }
    } catch {
      // Read what was asked for, so the next request to each helper gets its own answer.
      for helper in asked { _ = try? helper.reply() }
      throw error
    }
    var failure: KernelError?
    for (i, entry) in reading.enumerated() {
      let reply: HelperReply
      do throws(KernelError) { reply = try collect(entry.helper, step: nil) } catch {
        failure = failure ?? error
        continue
      }
      guard let view = reply.answer(as: BoxView.self) else {
        failure = failure ?? Self.unexpectedFactsReply(reply, from: entry.helper)
        continue
      }
      Self.apply(view, to: &boxes[i].process, host: host)
    }
    for (i, entry) in reading.enumerated() where Self.readsNet(entry, host: hostNamespaces) {
      do throws(KernelError) {
        let dump = try dump(of: entry.helper, from: try collect(entry.helper, step: nil), step: nil)
        var net = NetworkFacts.resolve([dump], names: [entry.helper.box], pids: [Int32(entry.helper.pid)], at: 0)
        net.listening = listening(pid: entry.helper.pid)
        boxes[i].process.net = net
      } catch {
        failure = failure ?? error
      }
    }
    if let failure { throw failure }
    return boxes
  }

  /// A pid namespace dies for every box in it (see `facts()`): the boxes that share one with a
  /// box read here were read too, and a box not read keeps what it showed. Only the boxes in the
  /// pid namespaces of those read count: the host's never dies, and a box in another pid
  /// namespace says nothing about these.
  private static func spreadReadBackDeaths(
    _ boxes: inout [BoxFacts], previous: KernelFacts, host: [NamespaceKind: UInt64]
  ) {
    var dead = Set(boxes.filter { !$0.process.pidNamespaceAlive }.compactMap { $0.process.namespaces[.pid] })
    let read = Set(boxes.map(\.name))
    let pidNamespaces = Set(boxes.compactMap { $0.process.namespaces[.pid] })
    for inode in pidNamespaces where inode != host[.pid] && !dead.contains(inode) {
      let others = previous.boxes(in: .pid, inode).filter { !read.contains($0) }
      if others.contains(where: { previous.box($0)?.process.pidNamespaceAlive == false }) { dead.insert(inode) }
    }
    for i in boxes.indices where boxes[i].process.namespaces[.pid].map(dead.contains) == true {
      boxes[i].process.pidNamespaceAlive = false
    }
  }
}

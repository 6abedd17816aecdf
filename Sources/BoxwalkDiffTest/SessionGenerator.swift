/// Generates plausible REPL sessions from the whole vocabulary (the command table of the Lab
/// module), seeded so that a seed names one session for ever.
///
/// The generator keeps a rough model of what the session has built (boxes, the namespaces each
/// has unshared, root filesystems, veths, addresses, mounts, cgroups) and mostly picks commands
/// whose preconditions hold, with arguments that exist: `overlay busybox` after `unshare mnt`,
/// `net attach br0` after a veth and a bridge. About 18% of the commands are deliberate mistakes
/// of the kinds learners make: the right command in the wrong order (hostname before `unshare
/// uts`, `pivot-root` without a root filesystem), a missing namespace, a name that does not
/// exist, a value that is not one. The model assumes every valid command succeeds; it only has
/// to make sessions plausible, not predict them.
struct SessionGenerator {
  static let mistakeRate = 0.18

  struct Box {
    var name: String
    var kinds: Set<String> = []
    var rootfs = false
    var entered = false
    var veth = false
    var addressed = false
    var mounts: [String] = []
    var cgroup = false
    var mapped: Set<String> = []
    var background = 0
  }

  struct Model {
    var boxes: [Box] = []
    var current: Int?
    var bridges: [String] = []
    var images: [String] = ["busybox"]
    var pushed: [String] = []
    var watches = 0
    var outside = false
    var box: Box? { current.map { boxes[$0] } }
    /// The current box's index and the box itself, for the producers whose `applies` requires a
    /// current box (so the fallbacks, index 0 and an unnamed box, are never used).
    var index: Int { current ?? 0 }
    var here: Box { box ?? Box(name: "") }
  }

  /// One kind of command: when it makes sense, and how to write one (updating the model as if
  /// it succeeded).
  struct Producer: Sendable {
    let weight: Double
    let applies: @Sendable (Model) -> Bool
    let make: @Sendable (inout Model, inout SeededRandom) -> String
  }

  static let boxNames = ["web", "db", "app", "cache"]
  static let kinds = ["pid", "net", "ipc", "mnt", "uts", "user", "cgroup", "time"]
  static let programs = [
    "true", "false", "echo hello", "hostname", "id -u", "sh -c 'echo hi'", "cat /etc/hostname", "ls /", "uname",
    "sleep 0", "ps", "mount", "ip addr", "ipcs", "id", "/bin/busybox true", "sh -c 'exit 3'", "/no/such/program",
    // A shell that forks for a command before its last one: refused under pids.max.
    "sh -c 'echo a; sleep 0; echo b'", "sh -c 'sleep 0; sleep 0'",
  ]
  static let files = [
    "/etc/motd", "/etc/hostname", "/etc/passwd", "/app/config.txt", "/bin/sh", "/etc", "/srv/index.html",
    // Under the places the generator mounts on (a tmpfs, a bind of /etc).
    "/mnt/hostname", "/tmp/notes",
  ]
  static let paths = ["/mnt", "/tmp", "/srv", "/run", "/proc", "/sys", "/etc/hostname", "/nonexistent"]

  static func count(_ m: Model, _ predicate: (Box) -> Bool) -> Int { m.boxes.filter(predicate).count }

  static func has(_ kind: String) -> @Sendable (Model) -> Bool { { $0.box?.kinds.contains(kind) == true } }

  static let producers: [Producer] = [
    // boxes
    Producer(weight: 3, applies: { $0.boxes.count < 3 }) { m, r in
      let name = boxNames.first { n in !m.boxes.contains { $0.name == n } } ?? "extra"
      m.boxes.append(Box(name: name))
      m.current = m.boxes.count - 1
      return "box new \(name)"
    },
    Producer(weight: 1.5, applies: { $0.boxes.count >= 2 }) { m, r in
      let i = r.below(m.boxes.count)
      m.current = i
      return "use \(m.boxes[i].name)"
    },
    Producer(weight: 0.6, applies: { _ in true }) { _, r in r.pick(["box ls", "ns"]) },
    Producer(weight: 0.4, applies: { $0.boxes.count >= 2 }) { m, r in
      let i = r.below(m.boxes.count)
      let name = m.boxes[i].name
      m.boxes.remove(at: i)
      m.current = nil
      return "box rm \(name)"
    },
    // namespaces
    Producer(weight: 6, applies: { m in m.box.map { $0.kinds.count < kinds.count } ?? false }) { m, r in
      let unshared = kinds.filter { !m.here.kinds.contains($0) }
      let left = unshared.isEmpty ? kinds : unshared
      var chosen = [r.pick(left)]
      if r.chance(0.2), let second = left.filter({ $0 != chosen[0] }).randomElement(using: &r) { chosen.append(second) }
      m.boxes[m.index].kinds.formUnion(chosen)
      // A copy of the mount namespace that keeps its peers (unshare(1) --propagation unchanged):
      // refused in a box still in the host's mount namespace, which makes it a mistake as often.
      let keep = chosen.contains("mnt") && r.chance(0.25) ? " --propagation unchanged" : ""
      return "unshare " + chosen.joined(separator: ",") + keep
    },
    Producer(weight: 1.2, applies: { m in m.current != nil && m.boxes.count >= 2 }) { m, r in
      let others = m.boxes.indices.filter { $0 != m.index }
      guard !others.isEmpty else { return "join \(r.pick(kinds)) \(m.here.name)" }
      let target = m.boxes[r.pick(others)]
      let kind = target.kinds.isEmpty ? r.pick(kinds) : r.pick(Array(target.kinds).sorted())
      // In another box's mount namespace the box sees that box's mounts, not its own.
      if kind == "mnt" { m.boxes[m.index].mounts = [] }
      return "join \(kind) \(target.name)"
    },
    // uts
    Producer(weight: 1.5, applies: { $0.current != nil }) { m, r in
      if m.here.kinds.contains("uts") && r.chance(0.7) {
        return r.pick(["hostname", "domainname"]) + " " + r.pick(["lab-box", "db1", "inner"])
      }
      return r.pick(["hostname", "domainname"])
    },
    // pid
    Producer(weight: 2.5, applies: { $0.current != nil }) { _, r in "run " + r.pick(programs) },
    Producer(weight: 1, applies: { $0.current != nil }) { m, r in
      m.boxes[m.index].background += 1
      return "run -d " + r.pick(["sleep 1000", "true", "sleep 2000"])
    },
    Producer(weight: 1, applies: { $0.current != nil }) { _, _ in "ps" },
    Producer(weight: 0.6, applies: { m in (m.box?.background ?? 0) > 0 }) { _, r in "kill \(r.int(1...3))" },
    // user
    Producer(weight: 2, applies: has("user")) { m, r in
      let kind = m.here.mapped.contains("uid") ? "gid" : r.pick(["uid", "gid"])
      m.boxes[m.index].mapped.insert(kind)
      return "map \(kind) " + r.pick(["0 100000 65536", "0 0 1", "0 1000 1", "0 200000 10"])
    },
    Producer(weight: 0.8, applies: { $0.current != nil }) { _, r in r.pick(["id", "caps"]) },
    // mnt
    Producer(weight: 2.5, applies: has("mnt")) { m, r in
      let choice = r.below(5)
      let path: String
      let command: String
      switch choice {
      case 0: (path, command) = ("/proc", "mount proc /proc")
      case 1: (path, command) = ("/sys", "mount sysfs /sys")
      case 2:
        // Over a directory of the image too (/etc, /bin): the tmpfs hides its files.
        path = r.pick(["/mnt", "/tmp", "/srv", "/run", "/etc", "/bin"])
        command = "mount tmpfs \(path)"
      case 3:
        path = r.pick(["/mnt", "/srv", "/etc"])
        command = "mount bind \(r.pick(["/etc", "/tmp", "/etc/hostname"])) \(path)"
      default:
        path = r.pick(["/mnt", "/tmp", "/etc/hostname"])
        command = "mount tmpfs \(path)"
      }
      m.boxes[m.index].mounts.append(path)
      return command
    },
    // A container's /dev: a tmpfs with the host's device nodes bound in; on another directory, a
    // file, or a path that is not there too.
    Producer(weight: 0.8, applies: has("mnt")) { m, r in
      let path = r.pick(["/dev", "/dev", "/mnt", "/etc/hostname", "/nonexistent"])
      // Only a directory takes a mount (a file is ENOTDIR, a missing path ENOENT), and in a box
      // with a user namespace the mount may be refused (EPERM, when the mount namespace is not
      // owned by it): a failed `mount dev` counted as made would let the next steps start a
      // background job in a root without /dev/null, whose error line races the shell's output.
      if ["/dev", "/mnt"].contains(path) && !m.here.kinds.contains("user") {
        m.boxes[m.index].mounts.append(path)
      }
      return "mount dev \(path)"
    },
    // What a /dev makes work: a shell's background job (stdin /dev/null) and the listing. Only
    // once /dev was mounted in the root the box has entered: without a /dev/null the job's error
    // line races the shell's output. The shell may exit before its job has reached execve(2);
    // a `show` or `ps` after it must still see the job as the program it runs.
    // In a box with a cgroup too: under pids.max the shell's fork for a job is refused.
    Producer(weight: 1.2, applies: { m in m.box.map { $0.entered && $0.mounts.contains("/dev") } ?? false }) { _, r in
      r.pick([
        "run sh -c 'sleep 1000 & echo x'", "run sh -c 'sleep 1000 & echo x'",
        "run sh -c 'sleep 1000 & sleep 2000 & echo x'",
        "run ls /dev", "run ls /dev/null", "run cat /dev/null",
      ])
    },
    Producer(weight: 1, applies: { m in !(m.box?.mounts.isEmpty ?? true) }) { m, r in
      let path = m.here.mounts.isEmpty ? "/mnt" : r.pick(m.here.mounts)
      m.boxes[m.index].mounts.removeAll { $0 == path }
      return "umount \(path)"
    },
    // rm of a mount point, or of the directory it is in: the kernel's rmdir(2) is EBUSY only after
    // rm has removed what it reached first (regression 42), so boxwalk refuses before anything.
    Producer(weight: 0.5, applies: { m in m.box.map { $0.rootfs && !$0.mounts.isEmpty } ?? false }) { m, r in
      // Also picked at the wrong time (a mistake), with no mount: then a path that is none.
      let point = m.here.mounts.isEmpty ? "/mnt" : r.pick(m.here.mounts)
      let parent = String(point[..<(point.lastIndex(of: "/") ?? point.startIndex)])
      return "rm " + (parent.isEmpty || r.chance(0.5) ? point : parent)
    },
    Producer(weight: 0.8, applies: { $0.current != nil }) { _, _ in "mounts" },
    Producer(weight: 0.8, applies: has("mnt")) { _, r in "propagation " + r.pick(["private", "slave", "shared"]) },
    // layers
    Producer(weight: 4, applies: { m in m.box.map { $0.kinds.contains("mnt") && !$0.rootfs } ?? false }) { m, r in
      m.boxes[m.index].rootfs = true
      // From now on the box's paths start at its new root: what it mounted before is elsewhere.
      m.boxes[m.index].mounts = []
      let image = r.pick(m.images)
      if r.chance(0.6) { return "overlay \(image)" }
      // A plain-directory root: pivot_root(2) then fails with EINVAL until it is bind-mounted.
      return r.chance(0.25) ? "rootfs \(image) --dir" : "rootfs \(image)"
    },
    Producer(weight: 1.5, applies: { m in m.box.map { $0.rootfs && !$0.entered } ?? false }) { m, r in
      m.boxes[m.index].entered = true
      // A mount made in the prepared root stays where the box now looks: it is under the new root.
      return r.pick(["pivot-root", "chroot"])
    },
    Producer(weight: 3, applies: { $0.box?.rootfs == true }) { m, r in
      let file = r.pick(files)
      switch r.below(5) {
      case 0: return "write \(file) " + r.pick(["hello", "'two words'", "v1"])
      case 1: return "rm \(file)"
      case 2: return "cat \(file)"
      case 3: return "ls " + r.pick(["/", "/etc", "/app", "/bin", "/mnt", "/tmp"])
      default: return "which \(file)"
      }
    },
    Producer(weight: 0.8, applies: { $0.box?.rootfs == true }) { m, r in
      let name = r.pick(["site:v1", "web-v1", "snap"])
      if !m.images.contains(name) { m.images.append(name) }
      return "commit \(name)"
    },
    Producer(weight: 1.2, applies: { _ in true }) { m, r in
      switch r.below(6) {
      case 0: return "image ls"
      case 1: return "layer ls"
      case 2:
        let ref = "oci:shelf/" + r.pick(["site:v1", "base:v2"])
        m.pushed.append(ref)
        return "image tag \(r.pick(m.images)) \(ref)"
      case 3: return "image push " + (m.pushed.isEmpty ? "oci:shelf/site:v1" : r.pick(m.pushed))
      case 4:
        return "image pull " + (m.pushed.isEmpty ? "oci:shelf/site:v1" : r.pick(m.pushed))
      default:
        return "image " + r.pick(["push", "pull"]) + " " + r.pick(["127.0.0.1", "localhost"]) + ":5000/site:v1"
      }
    },
    // net
    Producer(weight: 3, applies: { m in m.box.map { $0.kinds.contains("net") && !$0.veth } ?? false }) { m, r in
      m.boxes[m.index].veth = true
      return "net veth"
    },
    Producer(weight: 1, applies: { $0.bridges.isEmpty }) { m, _ in
      m.bridges.append("br0")
      return "net bridge br0"
    },
    Producer(weight: 1.5, applies: { m in !m.bridges.isEmpty && m.box?.veth == true }) { _, _ in "net attach br0" },
    Producer(weight: 3, applies: { $0.box?.veth == true }) { m, r in
      let box = m.here
      m.boxes[m.index].addressed = true
      let n = m.index + 2
      switch r.below(6) {
      case 0, 1: return "net addr eth0 10.0.0.\(n)/24"
      case 2: return "net addr host:veth-\(box.name) 10.0.0.1/24"
      case 3: return m.bridges.isEmpty ? "net addr eth0 10.0.1.\(n)/24" : "net addr host:br0 10.0.0.1/24"
      case 4: return "net addr " + r.pick(["lo", "host:lo"]) + " 10.0.1.1/24"
      default: return "net addr host:veth-\(box.name) 10.0.1.1/24"
      }
    },
    Producer(weight: 3, applies: { $0.box?.kinds.contains("net") == true }) { m, r in
      let box = m.here
      var links = ["eth0", "lo", "host:veth-\(box.name)", "host:lo"]
      if !m.bridges.isEmpty { links.append("host:br0") }
      return (r.chance(0.85) ? "net up " : "net down ") + r.pick(links)
    },
    Producer(weight: 1, applies: { $0.box?.addressed == true }) { _, r in "net route default via 10.0.0.1" },
    Producer(weight: 2, applies: { $0.current != nil }) { m, r in
      let address = r.pick(["10.0.0.1", "10.0.0.2", "10.0.0.3", "127.0.0.1", "10.0.1.1", "8.8.8.8"])
      if r.chance(0.3) {
        return "ping \(address) --from " + r.pick(["host"] + m.boxes.map(\.name))
      }
      return "ping \(address)"
    },
    Producer(weight: 0.8, applies: { _ in true }) { _, _ in "links" },
    // out of the lab: the outside, forwarding and masquerade on the host side
    Producer(weight: 0.6, applies: { !$0.outside }) { m, _ in
      m.outside = true
      return "net outside"
    },
    Producer(weight: 0.8, applies: { $0.outside }) { m, r in
      switch r.below(5) {
      case 0: return "net forward " + r.pick(["on", "off"])
      case 1: return "net nat " + (m.bridges.isEmpty ? "br0" : r.pick(m.bridges))
      case 2: return "net rules"
      case 3:
        return "ping 203.0.113.1" + (r.chance(0.5) && !m.boxes.isEmpty ? " --from " + r.pick(m.boxes.map(\.name)) : "")
      default: return "show " + r.pick(["host.net.forward", "host.net.rules", "outside.net.links"])
      }
    },
    // ports: a server (`net listen`), a client (`connect`) and a published port (`net publish`),
    // as lesson 18 uses them; ports nothing listens on and sides with no route are common.
    Producer(weight: 1.2, applies: { $0.box?.kinds.contains("net") == true }) { m, r in
      let port = r.pick(["80", "8080", "53", "80", "443"])
      let proto = r.pick(["", "", "", " tcp", " udp", " udp"])
      if r.chance(0.7) { return "net listen \(port)\(proto)" }
      return "net listen \(port)\(proto) --on " + r.pick(["host", "outside"] + m.boxes.map(\.name))
    },
    Producer(weight: 1.5, applies: { $0.current != nil }) { m, r in
      let n = r.int(2...4)
      let target = r.pick([
        "10.0.0.\(n):80", "10.0.0.1:80", "203.0.113.1:80", "203.0.113.2:8080", "127.0.0.1:80", "10.0.0.\(n):8080",
        "127.0.0.1:53", "203.0.113.2:80", "203.0.113.2:5353", "10.0.0.\(n):53", "203.0.113.1:53",
      ])
      let proto = r.pick(["", "", "", " tcp", " udp", " udp"])
      if r.chance(0.35) {
        return "connect \(target)\(proto) --from " + r.pick(["host", "outside"] + m.boxes.map(\.name))
      }
      return "connect \(target)\(proto)"
    },
    Producer(weight: 0.8, applies: { $0.outside && !$0.bridges.isEmpty }) { m, r in
      let box = m.boxes.isEmpty ? "web" : r.pick(m.boxes.map(\.name))
      let proto = r.pick(["", "", "", " tcp", " udp"])
      return "net publish \(r.pick(["8080", "8080", "80", "5353"])) \(box):\(r.pick(["80", "80", "53"]))\(proto)"
    },
    // ipc
    Producer(weight: 1.5, applies: { $0.current != nil }) { _, r in
      if r.chance(0.3) { return "ipc ls" }
      return "ipc \(r.pick(["mq", "shm", "sem"])) new \(r.pick(["0x2a", "42", "7", "0x10"]))"
    },
    Producer(weight: 0.6, applies: { $0.current != nil }) { _, r in
      switch r.below(3) {
      case 0: return "ipc posix_mq new " + r.pick(["/jobs", "/q", "jobs"])
      case 1: return "mount mqueue " + r.pick(["/dev/mqueue", "/mnt"])
      default: return "show " + r.pick(["web", "db", "app"]) + ".ipc.posix_mq"
      }
    },
    // time
    Producer(weight: 0.5, applies: has("time")) { _, r in
      "clock offset " + r.pick(["monotonic", "boottime"]) + " " + r.pick(["100", "-5", "86400"])
    },
    // the store's housekeeping
    Producer(weight: 0.3, applies: { _ in true }) { _, _ in "image prune" },
    // cgroup
    Producer(weight: 1.2, applies: { m in m.box.map { !$0.cgroup } ?? false }) { m, _ in
      m.boxes[m.index].cgroup = true
      return "cgroup new"
    },
    Producer(weight: 1.5, applies: { $0.box?.cgroup == true }) { _, r in
      switch r.below(5) {
      case 0: return "cgroup set pids.max \(r.pick(["10", "3", "2", "1", "-1"]))"
      case 1: return "cgroup set memory.max \(r.pick(["32M", "64M", "100000"]))"
      case 2: return "cgroup set cpu.max \"10000 100000\""
      case 3: return "cgroup show"
      default: return "stress " + r.pick(["fork 5", "memory 8M", "fork 20"])
      }
    },
    // looking
    Producer(weight: 2, applies: { _ in true }) { m, r in
      let who = r.pick(["host"] + m.boxes.map(\.name))
      let leaf = r.pick([
        "hostname", "ns.uts", "ns.net", "pid.ps", "user.uid_map", "mounts", "root", "net.links", "ipc.mq",
        "cgroup.pids.max", "fs.layers", "propagation", "user.caps", "net.routes",
      ])
      switch r.below(6) {
      case 0: return "diff"
      case 1: return "explain"
      case 2:
        m.watches += 1
        return "watch \(who).\(leaf)"
      case 3: return m.watches > 0 ? "unwatch \(r.int(1...m.watches))" : "state"
      default: return "show \(who).\(leaf)"
      }
    },
    Producer(weight: 0.3, applies: { _ in true }) { _, r in
      "help" + (r.chance(0.7) ? " " + r.pick(["unshare", "net addr", "mount", "overlay", "cgroup"]) : "")
    },
  ]

  /// Mistakes that are not a valid command in the wrong place: bad names, bad values, missing
  /// arguments, typos.
  static let badCommands = [
    "box new 'bad name'", "box new host", "use nosuch", "join uts nosuch", "box rm nosuch", "unshare bogus",
    "unshare", "join uts", "map uid x 1 1", "map uid 0 0", "cgroup set memory.max lots", "cgroup set nosuch.max 1",
    "ipc mq new 0xzz", "ipc pipe new 1", "net addr eth0 300.1.1.1/24", "net addr eth0 10.0.0.2", "mount nfs /x",
    "mount proc", "kill abc", "ping not-an-ip", "propagation sideways", "stress fork -1", "hostnme", "mout proc /proc",
    "show web.nosuch", "show", "overlay nosuch", "rootfs nosuch", "write /etc/motd", "cat", "unwatch 99",
    "net route default via 10.0.0", "image pull nosuch", "image push oci:shelf/Bad:v1", "commit 'x y'",
    "net veth a", "net attach nosuch", "cgroup set pids.max many", "run", "run -d", "kill 99",
    "net forward maybe", "net nat nosuch", "net nat", "clock offset realtime 5", "clock offset monotonic x",
    "ipc posix_mq new", "image prune now", "net listen 0", "net listen 70000", "net listen http", "net listen 080",
    "net listen 80 --on nosuch", "net listen 80 --at host", "connect 10.0.0.2", "connect 10.0.0.2:x",
    "connect 10.0.0.2:0", "connect 10.0.0.300:80", "connect 10.0.0.2:80 --from nosuch", "connect",
    "net publish 8080 nosuch:80", "net publish 8080 web", "net publish x web:80", "net publish 8080 web:80 sctp",
    "net publish 99999 web:80", "net publish 8080", "net listen 80 sctp", "net listen 80 udp --on",
    "net listen udp", "connect 10.0.0.2:80 icmp", "connect 10.0.0.2:80 udp --from", "connect udp",
  ]

  /// A session of `count` commands for `seed`.
  static func session(seed: UInt64, minCommands: Int, maxCommands: Int) -> [String] {
    var r = SeededRandom(seed: seed)
    var model = Model()
    let count = r.int(minCommands...maxCommands)
    var commands: [String] = []
    while commands.count < count {
      if r.chance(mistakeRate) && !model.boxes.isEmpty {
        if r.chance(0.5) {
          commands.append(r.pick(badCommands))
        } else {
          // The right command at the wrong time: one whose precondition does not hold now.
          // Written on a scratch copy of the model, which is then dropped: it fails.
          let wrong = producers.filter { $0.weight > 0 && !$0.applies(model) }
          var scratch = model
          if scratch.current == nil { scratch.current = 0 }
          if scratch.box == nil { continue }
          let p = wrong.isEmpty ? r.pick(producers) : r.pick(wrong)
          commands.append(p.make(&scratch, &r))
        }
        continue
      }
      let usable = producers.filter { $0.applies(model) }
      let total = usable.reduce(0) { $0 + $1.weight }
      var x = Double(r.next() >> 11) / Double(1 << 53) * total
      var chosen = usable[usable.count - 1]
      for p in usable {
        if x < p.weight {
          chosen = p
          break
        }
        x -= p.weight
      }
      commands.append(chosen.make(&model, &r))
    }
    return commands
  }
}

extension Array {
  func randomElement(using r: inout SeededRandom) -> Element? { isEmpty ? nil : self[r.below(count)] }
}

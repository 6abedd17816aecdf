/// What `help COMMAND` adds to a command's usage line and summary: each argument explained, and
/// one example to type. Keyed by `CommandInfo.name`; a test checks that every command of
/// `CommandTable.all` has an entry, and that each example is a line of that command, so the
/// table and its help cannot drift apart.
public struct CommandDetail: Sendable {
  /// Each argument of the usage line, and what it means.
  public let arguments: [(String, String)]
  /// A line a learner can type as it is (in a lab where it makes sense).
  public let example: String
}

extension CommandInfo {
  /// The arguments and example of this command, from `CommandTable.details`.
  public var detail: CommandDetail? { CommandTable.details[name] }

  /// `help COMMAND`: the usage, what it does, every argument and an example.
  public var helpLines: [String] {
    var out = ["usage: " + usage, "  " + summary]
    guard let detail else { return out }
    if detail.arguments.isEmpty {
      out.append("arguments: none")
    } else {
      out.append("arguments:")
      let width = detail.arguments.map(\.0.count).max() ?? 0
      out += detail.arguments.map { "  " + $0.0.padding(width) + "  " + $0.1 }
    }
    out.append("example: " + detail.example)
    return out
  }
}

extension CommandTable {
  static let box = ("BOX", "the name of a box (box ls lists them)")
  static let from = ("--from host|outside|BOX", "where the packet starts; the current box when left out")

  public static let details: [String: CommandDetail] = [
    "box new": .init(
      arguments: [("NAME", "a new box's name: letters, digits and -, not host or outside")], example: "box new web"),
    "box ls": .init(arguments: [], example: "box ls"),
    "box rm": .init(arguments: [("NAME", "the box to remove")], example: "box rm web"),
    "box export": .init(
      arguments: [
        ("NAME", "the box to export; it needs a root filesystem (rootfs IMAGE)"),
        ("DIR", "an absolute path that does not exist yet (or an empty directory of yours); made 0700"),
      ], example: "box export web /tmp/web-bundle"),
    "box import-bundle": .init(
      arguments: [
        ("DIR", "an absolute path of a bundle: DIR/config.json and its root filesystem"),
        ("NAME", "the new box's name; DIR's last name when left out"),
      ], example: "box import-bundle /tmp/web-bundle web2"),
    "use": .init(arguments: [("NAME", "the box later commands act on")], example: "use web"),
    "unshare": .init(
      arguments: [
        ("KIND[,KIND...]", "namespace kinds, comma separated: cgroup ipc mnt net pid time user uts"),
        ("--propagation", "with mnt: private (the default, like unshare(1)) or unchanged"),
      ], example: "unshare uts,ipc"),
    "join": .init(
      arguments: [("KIND", "one namespace kind"), ("BOX", "the box whose namespace to enter (setns(2))")],
      example: "join uts web"),
    "ns": .init(arguments: [], example: "ns"),
    "hostname": .init(
      arguments: [("NAME", "the new hostname; left out, the current one is printed")], example: "hostname lab-box"),
    "domainname": .init(
      arguments: [("NAME", "the new NIS domain name; left out, the current one is printed")],
      example: "domainname lab.example"),
    "show": .init(
      arguments: [("PATH", "a state path, keys separated by dots (state lists them all)")], example: "show web.ns.uts"),
    "state": .init(arguments: [("--json", "the tree as one JSON object")], example: "state"),
    "draw": .init(
      arguments: [
        ("ns|mounts|layers|net|cgroups|all", "which picture; ns when left out"),
        ("PATH", "with layers: the file whose layers to show"),
        ("--changed", "mark what the last step changed"), ("--usage", "add the memory in use"),
      ], example: "draw ns --changed"),
    "pictures": .init(arguments: [("on|off", "draw what each step changed, after it")], example: "pictures on"),
    "diff": .init(arguments: [], example: "diff"),
    "watch": .init(
      arguments: [("PATH", "a state path to print whenever a step changes it")], example: "watch web.hostname"),
    "unwatch": .init(arguments: [("N", "the number watch gave")], example: "unwatch 1"),
    "explain": .init(arguments: [], example: "explain"),
    "help": .init(arguments: [("COMMAND", "a command; left out, every command is listed")], example: "help unshare"),
    "repeat": .init(
      arguments: [
        ("N", "how many rounds, 1 to 1000"),
        ("COMMAND", "a command line; {i} in it is the round's number; ; on its own starts the next command"),
      ], example: "repeat 100 box new web{i} ; unshare uts,ipc,net"),
    "quit": .init(arguments: [], example: "quit"),
    "run": .init(
      arguments: [
        ("-d", "in the background: the prompt comes back at once"), ("CMD [ARG...]", "the program and its arguments"),
      ],
      example: "run -d sleep 1000"),
    "ps": .init(arguments: [("--host", "the host's view of the same processes, with host PIDs")], example: "ps"),
    "kill": .init(arguments: [("PID", "a process id as the box sees it (ps lists them)")], example: "kill 2"),
    "map": .init(
      arguments: [
        ("uid|gid", "which map: uid_map or gid_map"), ("INSIDE", "the first id inside the user namespace"),
        ("OUTSIDE", "the id it stands for outside"), ("COUNT", "how many ids in a row"),
      ], example: "map uid 0 100000 65536"),
    "id": .init(arguments: [], example: "id"),
    "caps": .init(arguments: [], example: "caps"),
    "mount": .init(
      arguments: [
        ("proc|sysfs|tmpfs|mqueue|dev", "the filesystem type"), ("PATH", "where to mount it in the box"),
        ("bind SRC DST", "make the existing directory SRC appear at DST too"),
      ], example: "mount proc /proc"),
    "umount": .init(arguments: [("PATH", "a mount point of the box (mounts lists them)")], example: "umount /proc"),
    "mounts": .init(arguments: [], example: "mounts"),
    "propagation": .init(
      arguments: [("private|slave|shared", "whether mounts pass between this mount namespace and its peers")],
      example: "propagation private"),
    "pivot-root": .init(arguments: [], example: "pivot-root"),
    "chroot": .init(arguments: [], example: "chroot"),
    "image": .init(
      arguments: [
        ("ls|import|tag|push|pull|rm|prune", "what to do"), ("NAME", "an image name, with an optional :TAG"),
        ("DIR", "with import: a directory whose files become one layer"),
        ("REF", "HOST:PORT/NAME:TAG (a registry) or oci:DIR/NAME:TAG (an OCI layout)"),
      ], example: "image tag site:v1 site:stable"),
    "layer": .init(
      arguments: [
        ("ls|rm", "what to do"),
        ("NAME", "with rm: a layer name as layer ls lists it (sha256-<12 hex> for one no image names)"),
      ], example: "layer ls"),
    "overlay": .init(
      arguments: [("NAME[,NAME...]", "images or layers, the first on top; a writable layer goes above them all")],
      example: "overlay busybox"),
    "rootfs": .init(
      arguments: [("IMAGE", "the image to use"), ("--dir", "copy it into a plain directory instead of mounting")],
      example: "rootfs busybox"),
    "write": .init(
      arguments: [("PATH", "a file in the box"), ("TEXT", "its new content (quote it when it has spaces)")],
      example: "write /etc/motd \"hello\""),
    "rm": .init(arguments: [("PATH", "a file in the box")], example: "rm /etc/motd"),
    "cat": .init(arguments: [("PATH", "a file in the box")], example: "cat /etc/hostname"),
    "ls": .init(arguments: [("PATH", "a directory in the box; / when left out")], example: "ls /etc"),
    "which": .init(arguments: [("PATH", "a file in the box")], example: "which /bin/busybox"),
    "commit": .init(arguments: [("NAME", "the new image's name, with an optional :TAG")], example: "commit site:v1"),
    "net veth": .init(
      arguments: [("HOSTIF BOXIF", "the names of the two ends; veth-BOX and eth0 when left out")], example: "net veth"),
    "net bridge": .init(arguments: [("NAME", "the bridge's name on the host side")], example: "net bridge br0"),
    "net attach": .init(arguments: [("BRIDGE", "a bridge made with net bridge")], example: "net attach br0"),
    "net addr": .init(
      arguments: [("IF", "a link of the box, or host:IF on the host side"), ("CIDR", "address/prefix")],
      example: "net addr eth0 10.0.0.2/24"),
    "net up": .init(arguments: [("IF", "a link of the box, or host:IF on the host side")], example: "net up eth0"),
    "net down": .init(arguments: [("IF", "a link of the box, or host:IF on the host side")], example: "net down eth0"),
    "net route": .init(
      arguments: [("ADDR", "the gateway, an address on one of the box's subnets")],
      example: "net route default via 10.0.0.1"),
    "net outside": .init(arguments: [], example: "net outside"),
    "net forward": .init(
      arguments: [("on|off", "forward packets between the host side's links")], example: "net forward on"),
    "net nat": .init(arguments: [("BRIDGE", "the bridge whose subnet to masquerade")], example: "net nat br0"),
    "net publish": .init(
      arguments: [
        ("HOSTPORT", "the port on the host side"), ("BOX:PORT", "where the packets go"),
        ("tcp|udp", "the protocol; tcp when left out"),
      ], example: "net publish 8080 web:80"),
    "net listen": .init(
      arguments: [
        ("PORT", "the TCP port"), ("--on host|outside|BOX", "where the socket is; the current box when left out"),
      ],
      example: "net listen 80"),
    "net rules": .init(arguments: [], example: "net rules"),
    "links": .init(arguments: [], example: "links"),
    "ping": .init(arguments: [("ADDR", "an IPv4 address"), from], example: "ping 10.0.0.1"),
    "connect": .init(
      arguments: [("ADDR:PORT", "an IPv4 address and a TCP port"), from],
      example: "connect 203.0.113.2:8080 --from outside"),
    "ipc": .init(
      arguments: [
        ("mq|shm|sem", "a System V message queue, shared memory segment or semaphore set"),
        ("KEY", "its key, decimal or 0x hex"), ("posix_mq new /NAME", "a POSIX message queue"),
        ("ls", "the objects the box's IPC namespace holds"),
      ], example: "ipc mq new 0x2a"),
    "clock": .init(
      arguments: [("monotonic|boottime", "the clock to shift"), ("SECONDS", "the offset, may be negative")],
      example: "clock offset monotonic 3600"),
    "cgroup": .init(
      arguments: [
        ("new", "a cgroup of the box's own"), ("KEY", "memory.max, pids.max or cpu.max"),
        ("VALUE", "a limit: 64M, 20, max, or QUOTA PERIOD for cpu.max"),
        ("--raw", "with show: the files as the kernel writes them"),
      ], example: "cgroup set memory.max 64M"),
    "stress": .init(
      arguments: [
        ("memory SIZE", "allocate and touch SIZE bytes (64M)"), ("fork COUNT", "start COUNT processes"),
        ("cpu SECONDS", "spin for up to 10 seconds"),
      ], example: "stress memory 64M"),
    "lessons": .init(arguments: [], example: "lessons"),
    "lesson": .init(arguments: [("ID", "a lesson id (lessons lists them)")], example: "lesson uts"),
    "record": .init(
      arguments: [("FILE", "a transcript to write; it must not exist yet"), ("stop", "stop recording")],
      example: "record my-session.transcript"),
    "next": .init(arguments: [], example: "next"),
    "back": .init(arguments: [], example: "back"),
    "hint": .init(arguments: [], example: "hint"),
    "check": .init(arguments: [], example: "check"),
    "solution": .init(arguments: [], example: "solution"),
    "reset": .init(
      arguments: [("step|lesson", "what to undo; step when left out"), ("--yes", "do not ask first")],
      example: "reset step"),
  ]
}

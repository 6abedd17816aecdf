/// Every REPL command: its usage line and what it does, for `help`, completion and suggestions.
/// README.md, "What works today", lists the same vocabulary.
public struct CommandInfo: Sendable {
  public let name: String
  public let usage: String
  public let summary: String
  public let area: String
}

public enum CommandTable {
  public static let all: [CommandInfo] = [
    .init(
      name: "box new", usage: "box new NAME",
      summary: "start a box: one process sharing every host namespace; it becomes current", area: "boxes"),
    .init(
      name: "box ls", usage: "box ls", summary: "list boxes and the namespaces each has of its own", area: "boxes"),
    .init(
      name: "box rm", usage: "box rm NAME", summary: "kill a box's processes; namespaces only it used die with them",
      area: "boxes"),
    .init(
      name: "box export", usage: "box export NAME DIR",
      summary: "write an OCI runtime bundle (config.json, rootfs/) that crun or runc runs as the box was built",
      area: "boxes"),
    .init(
      name: "box import-bundle", usage: "box import-bundle DIR [NAME]",
      summary: "build a box from an OCI runtime bundle, one command per field, and name what has no step",
      area: "boxes"),
    .init(
      name: "use", usage: "use NAME", summary: "make NAME the current box (the prompt shows it)", area: "boxes"),
    .init(
      name: "unshare", usage: "unshare KIND[,KIND...] [--propagation private|unchanged]",
      summary: "move the current box into new namespaces (KIND: cgroup ipc mnt net pid time user uts)",
      area: "namespaces"),
    .init(
      name: "join", usage: "join KIND BOX", summary: "setns: move the current box into BOX's namespace of that kind",
      area: "namespaces"),
    .init(
      name: "ns", usage: "ns", summary: "every box's namespaces beside the host's", area: "namespaces"),
    .init(
      name: "hostname", usage: "hostname [NAME]", summary: "print or set the hostname in the box's UTS namespace",
      area: "uts"),
    .init(
      name: "domainname", usage: "domainname [NAME]",
      summary: "print or set the NIS domain name in the box's UTS namespace", area: "uts"),
    .init(
      name: "show", usage: "show PATH", summary: "print one value of the state tree (e.g. web.ns.uts)", area: "looking"),
    .init(
      name: "state", usage: "state [--json]", summary: "print the whole state tree", area: "looking"),
    .init(
      name: "draw", usage: "draw [ns|mounts|layers [PATH]|net|cgroups|all] [--changed] [--usage]",
      summary: "the state as a picture; --changed marks what the last step changed, --usage adds memory in use",
      area: "looking"),
    .init(
      name: "pictures", usage: "pictures on|off",
      summary: "after each step, draw the pictures of what it changed", area: "looking"),
    .init(name: "diff", usage: "diff", summary: "what the last step changed", area: "looking"),
    .init(
      name: "watch", usage: "watch PATH", summary: "print PATH after every step that changes it", area: "looking"),
    .init(name: "unwatch", usage: "unwatch N", summary: "stop watch number N", area: "looking"),
    .init(
      name: "explain", usage: "explain", summary: "the system calls, the shell equivalent and why, for the last step",
      area: "looking"),
    .init(
      name: "help", usage: "help [COMMAND]", summary: "list commands, or explain one", area: "session"),
    .init(
      name: "repeat", usage: "repeat N COMMAND [; COMMAND]...",
      summary: "run the commands N times, {i} standing for 1 .. N: the first round in full, then a count",
      area: "session"),
    .init(
      name: "quit", usage: "quit", summary: "tear everything down and leave (Ctrl-D does the same)", area: "session"),
    // Later issues: listed so `help` tells the truth about them.
    .init(
      name: "run", usage: "run [-d] CMD [ARG...]", summary: "run a program in the box", area: "pid"),
    .init(
      name: "ps", usage: "ps [--host]", summary: "the box's processes beside the host's view", area: "pid"),
    .init(name: "kill", usage: "kill PID", summary: "signal a process in the box", area: "pid"),
    .init(
      name: "map", usage: "map uid|gid INSIDE OUTSIDE COUNT", summary: "write the user namespace's id map",
      area: "user"),
    .init(name: "id", usage: "id", summary: "uid and gid inside and outside", area: "user"),
    .init(name: "caps", usage: "caps", summary: "the box's capabilities", area: "user"),
    .init(
      name: "mount", usage: "mount proc|sysfs|tmpfs|mqueue|dev PATH | mount bind SRC DST",
      summary: "mount in the box's mount namespace", area: "mnt"),
    .init(name: "umount", usage: "umount PATH", summary: "unmount in the box", area: "mnt"),
    .init(
      name: "mounts", usage: "mounts", summary: "the box's mount table against the host's", area: "mnt"),
    .init(
      name: "propagation", usage: "propagation private|slave|shared", summary: "mount propagation of the box's root",
      area: "mnt"),
    .init(
      name: "pivot-root", usage: "pivot-root", summary: "switch the box to its root filesystem", area: "mnt"),
    .init(
      name: "chroot", usage: "chroot", summary: "chroot into the box's root filesystem, for contrast", area: "mnt"),
    .init(
      name: "image",
      usage:
        "image ls | image import NAME DIR | image tag IMAGE NAME | image push REF | image pull REF | image rm NAME | image prune",
      summary:
        "OCI images: list, a directory as an image, another name, push and pull (REF: HOST:PORT/NAME:TAG or oci:DIR/NAME:TAG), remove",
      area: "layers"),
    .init(
      name: "layer", usage: "layer ls | layer rm NAME", summary: "layers: list, remove one no image or box uses",
      area: "layers"),
    .init(
      name: "overlay", usage: "overlay NAME[,NAME...]",
      summary: "images or layers (first on top) plus a writable layer: the box's root filesystem", area: "layers"),
    .init(
      name: "rootfs", usage: "rootfs IMAGE [--dir]",
      summary: "one image as the root filesystem (--dir: copied into a plain directory, no mount)", area: "layers"),
    .init(
      name: "write", usage: "write PATH TEXT", summary: "write a file in the box", area: "layers"),
    .init(name: "rm", usage: "rm PATH", summary: "remove a file in the box", area: "layers"),
    .init(name: "cat", usage: "cat PATH", summary: "print a file in the box", area: "layers"),
    .init(name: "ls", usage: "ls [PATH]", summary: "list a directory in the box", area: "layers"),
    .init(name: "which", usage: "which PATH", summary: "the layer a file comes from", area: "layers"),
    .init(
      name: "commit", usage: "commit NAME",
      summary: "the writable layer becomes a new layer, and an image on top of the box's layers", area: "layers"),
    .init(
      name: "net veth", usage: "net veth [HOSTIF BOXIF]",
      summary: "a veth pair: one end on the host side, one in the box (veth-BOX and eth0)", area: "net"),
    .init(
      name: "net bridge", usage: "net bridge NAME", summary: "a bridge on the host side, like docker0", area: "net"),
    .init(
      name: "net attach", usage: "net attach BRIDGE", summary: "put the host end of the box's veth on the bridge",
      area: "net"),
    .init(
      name: "net addr", usage: "net addr IF CIDR", summary: "give a link an address (host:IF is on the host side)",
      area: "net"),
    .init(name: "net up", usage: "net up IF", summary: "switch a link on", area: "net"),
    .init(name: "net down", usage: "net down IF", summary: "switch a link off", area: "net"),
    .init(
      name: "net route", usage: "net route default via ADDR", summary: "the box's default route", area: "net"),
    .init(
      name: "net outside", usage: "net outside",
      summary: "plug the host side into the lab's stand-in for the internet (uplink, 203.0.113.0/24)", area: "net"),
    .init(
      name: "net forward", usage: "net forward on|off",
      summary: "the host side's net.ipv4.ip_forward: pass packets on between its links", area: "net"),
    .init(
      name: "net nat", usage: "net nat BRIDGE",
      summary: "masquerade the bridge's subnet on its way out of the host side (nftables)", area: "net"),
    .init(
      name: "net publish", usage: "net publish HOSTPORT BOX:PORT [tcp|udp]",
      summary: "send a port of the host side to a box (docker run -p)", area: "net"),
    .init(
      name: "net listen", usage: "net listen PORT [tcp|udp] [--on host|outside|BOX]",
      summary: "a responder on PORT: it answers each line with the address it came from", area: "net"),
    .init(name: "net rules", usage: "net rules", summary: "the host side's nftables rules", area: "net"),
    .init(
      name: "links", usage: "links", summary: "network links and routes, box beside host side", area: "net"),
    .init(
      name: "ping", usage: "ping ADDR [--from host|outside|BOX]", summary: "is ADDR reachable, and if not why",
      area: "net"),
    .init(
      name: "connect", usage: "connect ADDR:PORT [tcp|udp] [--from host|outside|BOX]",
      summary: "send a line over TCP or UDP: what answers, and if nothing does, what is missing", area: "net"),
    .init(
      name: "ipc", usage: "ipc mq|shm|sem new KEY | ipc posix_mq new /NAME | ipc ls",
      summary: "System V IPC objects and POSIX message queues", area: "ipc"),
    .init(
      name: "clock", usage: "clock offset monotonic|boottime SECONDS",
      summary: "shift a clock in the box's time namespace, before its first process", area: "time"),
    .init(
      name: "cgroup", usage: "cgroup new | cgroup set KEY VALUE | cgroup show [--raw]", summary: "limits and metering",
      area: "cgroup"),
    .init(
      name: "stress", usage: "stress memory|fork|cpu ARG", summary: "test a limit", area: "cgroup"),
    .init(name: "lessons", usage: "lessons", summary: "list lessons with your progress", area: "lessons"),
    .init(
      name: "lesson", usage: "lesson [ID]",
      summary: "start lesson ID, or resume it where you left it; alone, show the current step", area: "lessons"),
    .init(
      name: "record", usage: "record FILE | record stop",
      summary: "write this session as a transcript, updated after every command", area: "session"),
    .init(
      name: "next", usage: "next",
      summary: "run the step's lab commands and check them; on an exercise, move on once check passes",
      area: "lessons"),
    .init(
      name: "back", usage: "back",
      summary: "go back to the state before the step (the lab is rebuilt from the lesson start)", area: "lessons"),
    .init(name: "hint", usage: "hint", summary: "one more hint for this step", area: "lessons"),
    .init(
      name: "check", usage: "check",
      summary: "what this step's exercise still lacks (failing checks are expected while you work)", area: "lessons"),
    .init(
      name: "solution", usage: "solution", summary: "show and run the answer to this step's exercise", area: "lessons"),
    .init(
      name: "reset", usage: "reset [step|lesson] [--yes]",
      summary: "undo your work in this step, or restart the lesson; asks for yes first", area: "lessons"),
  ]

  /// The first word of every command, for completion and "did you mean".
  public static var firstWords: [String] {
    var seen = Set<String>()
    return all.compactMap { info in
      let w = String(info.name.split(separator: " ")[0])
      return seen.insert(w).inserted ? w : nil
    }
  }

  public static func lookup(_ name: String) -> CommandInfo? {
    all.first { $0.name == name } ?? all.first { $0.name.hasPrefix(name + " ") }
  }
}

/// The step kinds issue 10 measures, each as REPL lines: what runs untimed before each run, and
/// the one line that is timed. Every timed run gets a fresh box named `b` (removed untimed
/// afterwards), so a step that can happen once per box (unshare pid, map, pivot-root) is
/// measured the same way as one that could repeat.
///
/// To measure a new step kind, add a case here.
struct StepCase {
  /// The name BENCHMARKS.md shows; bench/floor.c reports its floor under the same name.
  let name: String
  /// Lines run once, untimed, before the first run; what they make (an image) stays for every run.
  var once: [String] = []
  /// Lines run before each timed run, untimed.
  let setup: [String]
  /// The timed line.
  let line: String
  /// What the step pays at the floor besides its own calls, as bench/floor.c names its cases:
  /// reading the state back, which every step does (the host's and the box's namespaces, "read";
  /// network namespaces are dumped too, "read: net"), and, before a step makes a directory that
  /// would outlive a crash of the machine, the durable ledger record that lets cleanup find it
  /// ("ledger record": write, fsync, rename).
  var floorParts: [String] = ["read"]
}

enum StepCases {
  static let all: [StepCase] = [
    StepCase(name: "box new", setup: [], line: "box new b"),
    StepCase(name: "box rm", setup: ["box new b"], line: "box rm b"),
    StepCase(name: "unshare uts", setup: ["box new b"], line: "unshare uts"),
    StepCase(name: "unshare ipc", setup: ["box new b"], line: "unshare ipc"),
    StepCase(name: "unshare mnt", setup: ["box new b"], line: "unshare mnt"),
    StepCase(name: "unshare pid", setup: ["box new b"], line: "unshare pid"),
    // After unshare net, facts() dumps the box's new network namespace too. "read: net" dumps
    // two namespaces (the lab's host side and a box), so it is slightly high for one.
    StepCase(name: "unshare net", setup: ["box new b"], line: "unshare net", floorParts: ["read", "read: net"]),
    StepCase(name: "unshare user", setup: ["box new b"], line: "unshare user"),
    StepCase(name: "unshare cgroup", setup: ["box new b"], line: "unshare cgroup"),
    StepCase(name: "unshare time", setup: ["box new b"], line: "unshare time"),
    StepCase(
      name: "unshare all six", setup: ["box new b"], line: "unshare mnt,pid,ipc,uts,net,cgroup",
      floorParts: ["read", "read: net"]),
    StepCase(name: "hostname", setup: ["box new b", "unshare uts"], line: "hostname lab-box"),
    StepCase(name: "mount tmpfs", setup: ["box new b", "unshare mnt"], line: "mount tmpfs /mnt"),
    StepCase(
      name: "rootfs busybox", setup: ["box new b", "unshare mnt"], line: "rootfs busybox",
      floorParts: ["read", "ledger record"]),
    StepCase(name: "mount bind / /", setup: ["box new b", "unshare mnt", "rootfs busybox"], line: "mount bind / /"),
    StepCase(
      name: "pivot-root", setup: ["box new b", "unshare mnt", "rootfs busybox"], line: "pivot-root"),
    StepCase(name: "run /bin/true", setup: ["box new b"], line: "run /bin/true"),
    StepCase(name: "ipc mq new", setup: ["box new b", "unshare ipc"], line: "ipc mq new 42"),
    StepCase(name: "map uid", setup: ["box new b", "unshare user"], line: "map uid 0 100000 65536"),
    // Two layers: busybox under a one-file layer committed once from a seed box (the same on sim
    // and real, no host directory needed).
    StepCase(
      name: "overlay of two layers",
      once: [
        "box new seed", "unshare mnt", "overlay busybox", "write /bench two-layers", "commit bench-lower",
        "box rm seed",
      ],
      setup: ["box new b", "unshare mnt"], line: "overlay bench-lower", floorParts: ["read", "ledger record"]),
    StepCase(name: "cgroup new", setup: ["box new b"], line: "cgroup new"),
    StepCase(name: "cgroup set", setup: ["box new b", "cgroup new"], line: "cgroup set pids.max 64"),
    StepCase(
      name: "net veth", setup: ["box new b", "unshare net"], line: "net veth", floorParts: ["read", "read: net"]),
    StepCase(
      name: "net addr", setup: ["box new b", "unshare net", "net veth"], line: "net addr eth0 10.99.0.2/24",
      floorParts: ["read", "read: net"]),
  ]

  /// A whole container from nothing, as a learner would type it, beside `crun run` and `runc run`
  /// of a busybox bundle: the same six namespaces, the busybox root, /proc, pivot_root, /bin/true
  /// the pids limit of 64 in a cgroup of its own (set before `unshare cgroup`, so the box's cgroup
  /// namespace is rooted at it), and teardown. bench/run writes the same lines for the
  /// whole-process run.
  static let container = [
    "box new c", "cgroup new", "cgroup set pids.max 64", "unshare mnt,pid,ipc,uts,net,cgroup", "rootfs busybox",
    "pivot-root",
    "mount proc /proc", "run /bin/true", "box rm c",
  ]
}

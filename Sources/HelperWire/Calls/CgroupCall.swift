/// The cgroup area's plan entries as the helper makes them (HelperCall.swift).
package enum CgroupCall: Equatable, Sendable {
  /// The `cgroup new` entry after boxwalk's mkdir: open the box's cgroup.procs files (one per
  /// hierarchy) and those of the cgroup the helper is in (`home`, may be empty), absolute host
  /// paths, at most `maxFiles` each. The helper keeps them and stays where it is: every process
  /// it starts from then on writes "0" to the box's files before anything else; `home` is where
  /// it goes back after `unshare cgroup`, which it makes from inside the box's cgroup.
  case openProcs(box: [[UInt8]], home: [[UInt8]])
  /// fork(2) a child that makes every entry after this one in the request, and wait for it
  /// (`HelperCall.childMakesTheRest`). Answered with how the child ended (StressOutcome).
  case fork
  /// In the child: write "0" to the box's cgroup.procs files, moving itself into the box's cgroup
  /// before it does anything else (cgroups(7)).
  case enterCgroup
  /// In the child: allocate and touch this many bytes (the `stress memory` program).
  case touchMemory(bytes: UInt64)
  /// In the child: fork this many children that wait (the `stress fork` program), at most
  /// `maxForks`.
  case forkTimes(Int)
  /// In the child: spin on the CPU for this many milliseconds (the `stress cpu` program).
  case spin(milliseconds: Int)

  /// The most cgroup.procs files one `openProcs` names on each side.
  package static let maxFiles = 8
  /// The most children one `forkTimes` starts.
  package static let maxForks = 4096

  /// The entry's fields: its name, then its arguments.
  package var fields: [[UInt8]] {
    switch self {
    case .openProcs(let box, let home):
      [Framing.text("open-cgroup-procs"), Array(box.joined(separator: [0])), Array(home.joined(separator: [0]))]
    case .fork: [Framing.text("fork")]
    case .enterCgroup: [Framing.text("enter-cgroup")]
    case .touchMemory(let bytes): [Framing.text("touch-memory"), Framing.number(bytes)]
    case .forkTimes(let count): [Framing.text("fork-times"), Framing.number(count)]
    case .spin(let ms): [Framing.text("spin"), Framing.number(ms)]
    }
  }

  /// The call named `name` with `args`, or nil when the name is not one of this area's or the
  /// arguments are wrong.
  init?(_ name: String, _ args: [[UInt8]]) {
    switch (name, args.count) {
    case ("open-cgroup-procs", 2):
      // An empty field is an empty list (home may be).
      let lists = args.map {
        $0.isEmpty ? [] : $0.split(separator: 0, omittingEmptySubsequences: false).map(Array.init)
      }
      // Absolute paths only, and a bounded number: the helper keeps one descriptor for each.
      guard !lists[0].isEmpty,
        lists.allSatisfy({ list in
          list.count <= Self.maxFiles && list.allSatisfy { $0.first == UInt8(ascii: "/") }
        })
      else { return nil }
      self = .openProcs(box: lists[0], home: lists[1])
    case ("fork", 0): self = .fork
    case ("enter-cgroup", 0): self = .enterCgroup
    case ("touch-memory", 1):
      guard let bytes = Framing.integer(args[0], as: UInt64.self) else { return nil }
      self = .touchMemory(bytes: bytes)
    case ("fork-times", 1):
      guard let count = Framing.integer(args[0], as: Int.self), (0...Self.maxForks).contains(count) else { return nil }
      self = .forkTimes(count)
    case ("spin", 1):
      guard let ms = Framing.integer(args[0], as: Int.self), ms >= 0 else { return nil }
      self = .spin(milliseconds: ms)
    default: return nil
    }
  }
}

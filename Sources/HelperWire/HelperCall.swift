// One entry of a step's plan, as the helper makes it.
//
// A step's plan (the typed system calls boxwalk prints, Sources/Kernel/SystemCall.swift) is made
// entry by entry. The entries a box's helper makes reach it as one `calls` request: a list of
// HelperCall values in plan order, each one system call (or the small group of calls one plan
// entry stands for) with every name boxwalk resolved before sending it: a box's root as a path,
// another helper's namespace file, a link's index. The helper makes them one at a time, in
// order, and stops at the first that fails (boxwalk-helper's Calls.swift):
//
//     calls CALL...            each CALL one field, its own fields packed inside it (Framing.pack)
//                              -> ok ANSWER...  one field per CALL, the answer of that entry
//                                               packed the same way (empty for most)
//                              -> err ERRNO call#N [NOTE]   N counts the CALLs from 0: the
//                                               entry that failed (FailedCall.planEntry)
//
// boxwalk knows which plan entry each CALL was sent for, so an error carries that entry without
// comparing any text. The calls are grouped by kernel area like the steps (Calls/AREA.swift), so
// a new step kind adds its calls to its area's file here and its making to the helper's.

/// One plan entry as the helper makes it: the call of one kernel area.
package enum HelperCall: Equatable, Sendable {
  case namespace(NamespaceCall)
  case cgroup(CgroupCall)
  case mount(MountCall)
  case net(NetCall)
  case process(ProcessCall)

  /// The entry's fields: its name (field 0) and its arguments.
  package var fields: [[UInt8]] {
    switch self {
    case .namespace(let c): c.fields
    case .cgroup(let c): c.fields
    case .mount(let c): c.fields
    case .net(let c): c.fields
    case .process(let c): c.fields
    }
  }

  /// The call these fields spell, or nil for an unknown name or wrong arguments. Each name
  /// belongs to one area; a known name with bad arguments is nil in its area and unknown to the
  /// others.
  package init?(fields: [[UInt8]]) {
    guard let name = fields.first.map(Framing.string) else { return nil }
    let args = Array(fields.dropFirst())
    if let c = NamespaceCall(name, args) {
      self = .namespace(c)
    } else if let c = CgroupCall(name, args) {
      self = .cgroup(c)
    } else if let c = MountCall(name, args) {
      self = .mount(c)
    } else if let c = NetCall(name, args) {
      self = .net(c)
    } else if let c = ProcessCall(name, args) {
      self = .process(c)
    } else {
      return nil
    }
  }

  /// Whether the helper makes this entry by fork(2), and the child makes every entry after it in
  /// the request (boxwalk-helper's ForkCalls.swift): the entries of a program, from joining the
  /// box's cgroup to its work, are the child's, never the helper's.
  package var childMakesTheRest: Bool {
    if case .cgroup(.fork) = self { true } else { false }
  }

  /// The entry's name, as field 0 spells it.
  package var name: String { fields.first.map(Framing.string) ?? "" }
}

/// The answer of a `calls` request: one list of fields per call, in order (empty for a call that
/// has nothing to tell). Each call's answer reads as its own type (HelperAnswers.swift).
package struct CallAnswers: HelperAnswer {
  package var answers: [[[UInt8]]]

  package init(_ answers: [[[UInt8]]]) { self.answers = answers }

  package init?(fields: [[UInt8]]) {
    var answers: [[[UInt8]]] = []
    for field in fields {
      guard let inner = Framing.unpack(field) else { return nil }
      answers.append(inner)
    }
    self.answers = answers
  }

  package var fields: [[UInt8]] { answers.map(Framing.pack) }

  /// Call `n`'s answer read as an `A`; nil when there is no call `n` or its fields are not one.
  package func answer<A: HelperAnswer>(_ n: Int, as type: A.Type = A.self) -> A? {
    answers.indices.contains(n) ? A(fields: answers[n]) : nil
  }
}

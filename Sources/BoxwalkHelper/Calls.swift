import Glibc
import HelperWire

/// A `calls` request: entries of a step's plan, made one at a time in the order boxwalk sent
/// them (HelperCall.swift). Each area's entries are made in its own file (NamespaceCalls.swift
/// and so on); this file walks the list, collects the answers and stops at the first failure.
///
/// Entries of one request share what earlier ones left behind (`CallState`): a descriptor one
/// opened and a later one uses, or what to undo when a later one fails (an unshare(2) followed by
/// a make-private that fails is undone, so the box is not left half moved).
enum Calls {
  /// What making one entry came to.
  enum Outcome {
    /// Made; the fields are its answer (usually none).
    case made([[UInt8]] = [])
    /// The system call failed with `errno`; `note` says more when the errno alone would mislead.
    case failed(errno: Int32, note: String? = nil)
    /// What this entry does ahead for the entry `entries` places after it failed: the overlay's
    /// fsopen(2) entry reaches the directories its fsconfig(2) entries name first, as the box's
    /// credentials allow, and a directory it cannot reach fails the entry that names it.
    case failedAhead(entries: Int, errno: Int32, note: String? = nil)
  }

  static func make(
    _ calls: [HelperCall], namespaces: NamespaceOperations, box: BoxOperations, channel: Channel
  ) -> HelperReply {
    var state = CallState()
    defer { state.closeAll() }
    var answers: [[[UInt8]]] = []
    func makeOne(_ call: HelperCall, _ state: inout CallState) -> Outcome {
      switch call {
      case .namespace(let c): namespaces.make(c, &state, box: box)
      case .mount(let c): box.make(c, &state)
      case .cgroup(let c): box.cgroups.make(c, &state)
      case .net(let c): NetOperations.make(c, &state)
      case .process(let c): box.make(c, &state, channel: channel)
      }
    }
    func failed(_ n: Int, _ errno: Int32, _ note: String?) -> HelperReply {
      // Undo what the earlier entries of this request did that must not outlive a failed
      // step, newest first; what could not be undone is added to the note.
      let left = state.undo()
      let notes = ([note] + left.map { Optional($0) }).compactMap { $0 }
      return .err(errno: errno, call: .planEntry(n), note: notes.isEmpty ? nil : notes.joined(separator: "; "))
    }
    for (n, call) in calls.enumerated() {
      if call.childMakesTheRest {
        // A fork entry: the child makes every entry after it, the helper waits (ForkCalls.swift).
        let rest = Array(calls[(n + 1)...])
        switch box.fork(making: rest, makeOne) {
        case .made(let answer):
          return .answer(CallAnswers(answers + [answer] + rest.map { _ in [] }))
        case .failed(let offset, let errno, let note):
          return failed(n + offset, errno, note)
        }
      }
      switch makeOne(call, &state) {
      case .made(let answer): answers.append(answer)
      case .failed(let errno, let note): return failed(n, errno, note)
      case .failedAhead(let entries, let errno, let note): return failed(n + entries, errno, note)
      }
    }
    return .answer(CallAnswers(answers))
  }
}

/// What the entries of one `calls` request leave for the ones after them.
struct CallState {
  /// In a forked child (ForkCalls.swift): what its program counted, for the helper's answer.
  var counts = StressOutcome(status: 0, started: 0, refused: 0)
  /// Descriptors opened by an entry for a later one, by what they are for ("target", "fs",
  /// "mount", "dev null"...). All are closed when the request ends, whatever happened.
  var descriptors: [String: Int32] = [:]
  /// Paths an entry reached for a later one that gives the kernel a path, not a descriptor (the
  /// overlay's directories, by name where no mount hides them), by what they are for.
  var paths: [String: [UInt8]] = [:]
  /// What to do, newest last, if a later entry fails: each returns nil when it undid its part,
  /// or a note saying what it could not undo.
  var undoers: [() -> String?] = []
  /// What to do when the request ends, whatever happened, newest first, before the descriptors
  /// close: the working directory an fchdir(2) entry left is restored (MountCalls.swift).
  var atEnd: [() -> Void] = []
  /// Numbers an entry leaves for later ones, by name (a time limit shared by several entries,
  /// a mark that an exchange has ended).
  var numbers: [String: Int64] = [:]

  /// Keep `fd` under `name`, closing one kept there before.
  mutating func keep(_ fd: Int32, as name: String) {
    if let old = descriptors[name] { _ = close(old) }
    descriptors[name] = fd
  }

  /// Take `name`'s descriptor out of the state, to outlive the request (a listener the helper
  /// answers from); -1 if there is none.
  mutating func handOver(_ name: String) -> Int32 {
    descriptors.removeValue(forKey: name) ?? -1
  }

  /// Run the undoers, newest first; the notes of those that could not undo their part.
  mutating func undo() -> [String] {
    let notes = undoers.reversed().compactMap { $0() }
    undoers = []
    return notes
  }

  mutating func closeAll() {
    for finish in atEnd.reversed() { finish() }
    atEnd = []
    for fd in descriptors.values { _ = close(fd) }
    descriptors = [:]
  }
}

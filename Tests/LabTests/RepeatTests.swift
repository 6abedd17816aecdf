import Kernel
import Simulator
import Testing

@testable import Lab

/// `repeat N COMMAND [; COMMAND]...`: each round's commands run as if typed, `{i}` the round.
@Suite struct RepeatTests {
  @Test func theRoundsRunAsTypedAndTheEndCountsWhatTheyMade() throws {
    let s = try Session(kernel: SimulatedKernel())
    let out = s.execute("repeat 5 box new web{i} ; unshare uts,net")
    #expect(s.boxNames == ["web1", "web2", "web3", "web4", "web5"])
    #expect(s.current == "web5")
    // Round 1 in full, not behind a prompt (a transcript would read that as a command).
    #expect(out.first == "round 1 of 5, in full:")
    #expect(out.contains("  > box new web1") && out.contains("  > unshare uts,net"))
    #expect(!out.contains { $0.hasPrefix("boxwalk") } && !out.contains("  > box new web2"))
    #expect(out.contains("repeated 2 commands 5 times ({i} = 1 .. 5): 10 steps, rounds 2 to 5 without their output"))
    #expect(out.contains("  boxes       + 5: web1, web2, web3 .. web5"))
    #expect(out.contains("  namespaces  the boxes have 5 net, 5 uts of their own, beside the host's one of each kind"))
    // The same as typing them: each box has its own uts namespace.
    let uts = Set(s.boxNames.compactMap { s.facts.box($0)?.process.namespaces[.uts] })
    #expect(uts.count == 5)
  }

  @Test(arguments: [
    ("repeat", "repeat needs a count and a command"),
    ("repeat 0 box new a", "\"0\" is not a number of rounds"),
    ("repeat 1001 box new a{i}", "\"1001\" is not a number of rounds"),
    ("repeat two box new a", "\"two\" is not a number of rounds"),
    ("repeat 3", "repeat needs a command after its count and after every ;"),
    ("repeat 3 box new a{i} ;", "repeat needs a command after its count and after every ;"),
    ("repeat 2 repeat 2 ns", "repeat cannot repeat repeat"),
    ("repeat 2 quit", "repeat cannot repeat quit"),
    ("repeat 1000 box new a{i} ; ns ; ns ; ns ; ns ; ns", "1000 rounds of 6 commands is 6000 commands"),
  ])
  func badInputChangesNothing(_ line: String, _ headline: String) throws {
    let s = try Session(kernel: SimulatedKernel())
    let before = s.tree
    let out = s.execute(line)
    #expect(out.first == "error: " + headline, "\(out)")
    #expect(out.contains { $0.hasSuffix("nothing was changed") })
    #expect(s.tree == before)
  }

  /// The first failure stops the repeat and is printed whole; what ran before it stays.
  @Test func aFailureStopsTheRepeatAndWhatRanBeforeStays() throws {
    let s = try Session(kernel: SimulatedKernel())
    let out = s.execute("repeat 3 box new b{i} ; hostname x{i}")
    #expect(s.boxNames == ["b1"])
    #expect(out.contains("  > hostname x1"))
    #expect(out.contains { $0.hasPrefix("    error: refused: b1 shares the host's UTS namespace") })
    #expect(out.contains("error: repeat stopped in round 1 of 3: hostname x1 failed (above)"))
    // In a later round: the round is named.
    let dup = s.execute("repeat 3 box new d ; ns")
    #expect(dup.contains("round 2 of 3:"))
    #expect(dup.contains { $0.hasPrefix("error: repeat stopped in round 2 of 3: box new d failed") })
    #expect(s.boxNames.filter { $0 == "d" }.count == 1)
    // A round whose commands are alike: its heading once, and the second command's failure keeps
    // what the first made (commands are told apart by place, not by text).
    let twice = s.execute("repeat 2 box new e{i} ; box new e{i}")
    #expect(twice.filter { $0 == "round 1 of 2, in full:" }.count == 1, "\(twice)")
    #expect(
      twice.contains(
        "  state: what the earlier commands made stays, as it would had they been typed; the rest did not run"))
    #expect(s.boxNames.contains("e1"))
  }
}

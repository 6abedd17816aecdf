import Testing

@testable import Kernel

/// The quoting of every shell line boxwalk prints: the step's `shell` line and a cgroup action's
/// command.
@Suite struct ShellWordTests {
  @Test func safeWordsStayBareAndOthersAreQuoted() {
    #expect(ShellWord.quote("max") == "max")
    #expect(ShellWord.quote("/sys/fs/cgroup/cpu,cpuacct") == "/sys/fs/cgroup/cpu,cpuacct")
    #expect(ShellWord.quote("") == "''")
    #expect(ShellWord.quote("50000 100000") == "'50000 100000'")
    #expect(ShellWord.quote("it's $HOME") == "'it'\\''s $HOME'")
    #expect(ShellWord.quote("a\tb'") == "$'a\\x09b\\''")
  }
}

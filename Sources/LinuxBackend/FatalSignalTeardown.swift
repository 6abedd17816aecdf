import CShim

/// What happens when boxwalk is told to die. SIGTERM (shutdown, `kill`, timeout(1)) and SIGHUP
/// (the terminal closed) would skip `teardown()`; these handlers SIGKILL and reap every helper,
/// using only async-signal-safe calls (signal-safety(7)), then execve(2) boxwalk itself as
/// `boxwalk cleanup --after-signal N SESSIONDIR`, which removes what the ledger records (scratch
/// directories, cgroups, IPC objects) and the ledger last, and exits 128+N. SIGKILL cannot be
/// caught: there the helpers die of PR_SET_PDEATHSIG and `boxwalk cleanup` removes the rest.
public enum FatalSignalTeardown {
  /// Install the SIGTERM and SIGHUP handlers (sigaction(2)). Call once, early, in the REPL.
  /// Returns false if sigaction failed, or boxwalk's own executable could not be named (then a
  /// signal leaves the ledger for `boxwalk cleanup`).
  @discardableResult
  public static func install() -> Bool {
    guard bw_install_fatal_signal_handlers() == 0 else { return false }
    // /proc/self/exe names the running binary even if it was started through a relative path.
    guard let exe = SmallFiles.readLink("/proc/self/exe") else { return false }
    return bw_emergency_set_cleanup(exe) == 0
  }

  /// With no terminal, SIGINT (Ctrl-C in the shell that started a piped boxwalk) tears down the
  /// same way and exits 130; at a terminal, the REPL's own handler clears the line instead.
  @discardableResult
  public static func installForInterrupt() -> Bool { bw_install_fatal_interrupt_handler() == 0 }
}

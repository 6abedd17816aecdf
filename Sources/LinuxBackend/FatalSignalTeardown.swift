import CShim

/// What happens when boxwalk is told to die. SIGTERM (shutdown, `kill`) and SIGHUP (the terminal
/// closed) would skip `teardown()`; these handlers SIGKILL and reap every helper and remove the
/// session's ledger first, using only async-signal-safe calls (signal-safety(7)). SIGKILL cannot
/// be caught: there the helpers die of PR_SET_PDEATHSIG and `boxwalk cleanup` removes the rest.
public enum FatalSignalTeardown {
  /// Install the SIGTERM and SIGHUP handlers (sigaction(2)). Call once, early, in the REPL.
  /// Returns false if sigaction failed.
  @discardableResult
  public static func install() -> Bool { bw_install_fatal_signal_handlers() == 0 }

  /// With no terminal, SIGINT (Ctrl-C in the shell that started a piped boxwalk) tears down the
  /// same way and exits 130; at a terminal, the REPL's own handler clears the line instead.
  @discardableResult
  public static func installForInterrupt() -> Bool { bw_install_fatal_interrupt_handler() == 0 }
}

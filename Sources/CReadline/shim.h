// GNU readline and history, imported into Swift. readline.h needs stdio.h first.
//
// readline keeps its settings in C global variables. Swift 6 refuses to touch mutable globals
// from Swift code (they are not concurrency-safe), so these one-line accessors do it in C; the
// REPL is single-threaded where it calls them.
#include <stdio.h>
#include <readline/readline.h>
#include <readline/history.h>

/// Configures readline for boxwalk: the program name used by ~/.inputrc `$if boxwalk`, our own
/// SIGINT handling instead of readline's (which re-raises the signal and would kill the REPL),
/// the completion function, and the hook readline calls when a read is interrupted by a signal.
static inline void bw_rl_configure(rl_completion_func_t *completion, rl_hook_func_t *signal_hook) {
  rl_readline_name = "boxwalk";
  rl_catch_signals = 0;
  rl_catch_sigwinch = 1;
  rl_attempted_completion_function = completion;
  rl_signal_event_hook = signal_hook;
}

/// Ends the current readline() call as if Enter had been pressed.
static inline void bw_rl_set_done(void) { rl_done = 1; }

/// The whole line being edited (for completion context).
static inline const char *bw_rl_line_buffer(void) { return rl_line_buffer; }

/// Tells readline not to fall back to file-name completion.
static inline void bw_rl_completion_over(void) { rl_attempted_completion_over = 1; }

/// Ctrl-C at the prompt: throw away what was typed and show a fresh prompt on a new line, as
/// bash does. Called from rl_signal_event_hook, i.e. from readline's own loop after read(2)
/// returned EINTR, not from the signal handler, so touching readline's state is safe here.
/// (Setting rl_done instead would only take effect after the next key: readline goes straight
/// back to waiting for input after calling the hook.)
static inline void bw_rl_discard_line(void) {
  rl_free_line_state();
  rl_replace_line("", 0);
  rl_point = rl_end = rl_mark = 0;
  fputs("^C\n", rl_outstream ? rl_outstream : stdout);
  fflush(rl_outstream ? rl_outstream : stdout);
  rl_on_new_line();
  rl_redisplay();
}

/// How many lines the in-memory history holds (history(3): history_length).
static inline int bw_history_count(void) { return history_length; }

/// The `i`th history line, oldest first from 0, or NULL (history(3): history_get counts from
/// history_base).
static inline const char *bw_history_line(int i) {
  HIST_ENTRY *entry = history_get(history_base + i);
  return entry ? entry->line : NULL;
}

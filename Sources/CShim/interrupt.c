// Ctrl-C for the REPL: SIGINT only sets a flag. The handler is installed without SA_RESTART, so
// a blocking read(2) or recv(2) returns EINTR and the code waiting there can look at the flag:
// readline clears the line, a foreground `run` kills the box program. A store to a
// volatile sig_atomic_t is the one thing a handler may safely do (signal-safety(7)).
#define _GNU_SOURCE
#include "cshim.h"

#include <signal.h>
#include <string.h>

static volatile sig_atomic_t bw_interrupted = 0;

static void bw_on_interrupt(int signo) {
  (void)signo;
  bw_interrupted = 1;
}

int bw_install_interrupt_handler(void) {
  struct sigaction action;
  memset(&action, 0, sizeof action);
  action.sa_handler = bw_on_interrupt;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: interrupted calls return EINTR
  return sigaction(SIGINT, &action, NULL);
}

int bw_interrupt_take(void) {
  int was = bw_interrupted;
  bw_interrupted = 0;
  return was;
}

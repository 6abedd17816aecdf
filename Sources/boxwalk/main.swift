// boxwalk: a step-through Linux container lab. All the work is in the CLI library, so tests can
// drive it without a process.
import CLI

BoxwalkCLI.main()

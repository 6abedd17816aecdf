// boxwalk: a step-through Linux container lab. All the work is in the CLI library (STYLE 13).
import CLI

BoxwalkCLI.main()

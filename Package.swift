// swift-tools-version:6.0
// boxwalk: a step-through Linux container lab. GPL-3.0-or-later (we link GNU readline).
//
// Dependency rules (DESIGN.md): Kernel, Simulator and Lab are pure Swift and never import Glibc or
// CShim; only LinuxBackend, the helper and CLI touch the operating system.
import PackageDescription

let package = Package(
  name: "boxwalk",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "boxwalk", targets: ["boxwalk"]),
    .executable(name: "boxwalk-helper", targets: ["BoxwalkHelper"]),
    .executable(name: "boxwalk-bench", targets: ["BoxwalkBench"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    // C: only what Swift cannot import (namespace constants, syscall wrappers, fork/exec).
    .target(name: "CShim"),
    // GNU readline, as a system library (Debian: libreadline-dev).
    .systemLibrary(name: "CReadline"),
    // Pure model: steps, errors, facts, the state tree, diffs, labels.
    .target(name: "Kernel"),
    // The deterministic in-memory kernel.
    .target(name: "Simulator", dependencies: ["Kernel"]),
    // The real kernel: one boxwalk-helper per box, /proc probes, the cleanup ledger.
    .target(name: "LinuxBackend", dependencies: ["Kernel", "CShim"]),
    // The single-threaded process that holds a box's namespaces. Linked fully static on Linux:
    // every `box new` starts one, and a static executable starts without loading and relocating
    // the dynamic Swift runtime (3.5 ms of a 4.3 ms `box new` here; BENCHMARKS.md).
    .executableTarget(
      name: "BoxwalkHelper", dependencies: ["CShim"],
      linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))]),
    // Commands, sessions, rendering, transcripts: never knows which backend it drives.
    .target(name: "Lab", dependencies: ["Kernel"]),
    // The command line and the REPL loop.
    .target(
      name: "CLI",
      dependencies: [
        "Lab", "Kernel", "Simulator", "LinuxBackend", "CReadline", "CShim",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]),
    .executableTarget(name: "boxwalk", dependencies: ["CLI"]),
    // Benchmarks, run by hand through bench/run (issue 10); never by CI or swift test.
    .executableTarget(name: "BoxwalkBench", dependencies: ["Lab", "Kernel", "LinuxBackend", "Simulator"]),

    .testTarget(name: "KernelTests", dependencies: ["Kernel"]),
    .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "Kernel"]),
    .testTarget(name: "LabTests", dependencies: ["Lab", "Simulator", "Kernel"]),
    .testTarget(name: "LinuxBackendTests", dependencies: ["LinuxBackend", "Kernel"]),
    .testTarget(name: "CLITests", dependencies: ["CLI", "Lab", "Simulator", "LinuxBackend", "Kernel"]),
  ],
  swiftLanguageModes: [.v6]
)

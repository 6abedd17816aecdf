// swift-tools-version:6.0
// boxwalk: a step-through Linux container lab. GPL-3.0-or-later (we link GNU readline).
//
// Dependency rules (docs/architecture.md): Kernel, Simulator, Lab, NetWire and HelperWire are pure Swift and
// never import Glibc or CShim; only LinuxBackend, the helper and CLI touch the operating system.
import PackageDescription

let package = Package(
  name: "boxwalk",
  platforms: [.macOS(.v13)],
  products: [
    .executable(name: "boxwalk", targets: ["boxwalk"]),
    .executable(name: "boxwalk-helper", targets: ["BoxwalkHelper"]),
    .executable(name: "boxwalk-bench", targets: ["BoxwalkBench"]),
    .executable(name: "boxwalk-difftest", targets: ["BoxwalkDiffTest"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    // The daemon's HTTP/1.1 server, on SwiftNIO.
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    // SwiftNIO itself (it comes with Hummingbird): the client side of `--host` and the registry
    // client use its HTTP/1.1 codec directly. AsyncHTTPClient would too, but it brings TLS
    // (BoringSSL, hundreds of C files) that a Unix socket and a loopback registry never need
    // (measured: docs/architecture.md, "The registry client").
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
    // Comes with Hummingbird: the daemon's event streams end on its graceful shutdown.
    .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    // SHA-256 for every digest (OCI's SHA256 wraps it). It comes with Hummingbird's dependencies
    // too, at this version; its C (BoringSSL) adds about 2 CPU minutes to a clean build and
    // makes hashing 11 to 400 times faster (docs/architecture.md, "SHA-256").
    .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
  ],
  targets: [
    // C: only what Swift cannot import (namespace constants, syscall wrappers, fork/exec).
    .target(name: "CShim"),
    // GNU readline, as a system library (Debian: libreadline-dev).
    .systemLibrary(name: "CReadline"),
    // Pure model: steps, errors, facts, the state tree, diffs, labels.
    .target(name: "Kernel"),
    // Pure (no system calls): SHA-256 (swift-crypto's), reproducible layer tars, OCI image documents.
    // Shared by both kernels, so the simulator computes the same layer digests as the real backend.
    .target(name: "OCI", dependencies: ["Kernel", .product(name: "Crypto", package: "swift-crypto")]),
    // zlib, as a system library (Debian: zlib1g-dev), for gzip layer blobs on the real backend.
    .systemLibrary(name: "CZlib"),
    // The deterministic in-memory kernel.
    .target(name: "Simulator", dependencies: ["Kernel", "OCI"]),
    // Pure: the bytes of rtnetlink(7) messages and ICMP echoes, built and parsed (no system calls).
    .target(name: "NetWire"),
    // Pure: the helper protocol, the messages boxwalk and boxwalk-helper exchange, typed and
    // framed. No imports at all: it is linked into the static helper.
    .target(name: "HelperWire"),
    // The real kernel: one boxwalk-helper per box, /proc probes, the cleanup ledger.
    // SwiftNIO's HTTP/1.1 codec, on an EmbeddedChannel, reads and writes the registry client's bytes.
    .target(
      name: "LinuxBackend",
      dependencies: [
        "Kernel", "CShim", "HelperWire", "NetWire", "OCI", "CZlib",
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]),
    // The single-threaded process that holds a box's namespaces. Linked fully static on Linux:
    // every `box new` starts one, and a static executable starts without loading and relocating
    // the dynamic Swift runtime (3.5 ms of a 4.3 ms `box new` here; BENCHMARKS.md).
    .executableTarget(
      name: "BoxwalkHelper", dependencies: ["CShim", "HelperWire", "NetWire"],
      linkerSettings: [.unsafeFlags(["-static-executable"], .when(platforms: [.linux]))]),
    // Commands, sessions, rendering, transcripts: never knows which backend it drives.
    // OCI for its JSON reader and SHA-256: `boxwalk report` digests, `class collect` verifies.
    .target(name: "Lab", dependencies: ["Kernel", "OCI"]),
    // `boxwalk daemon`: lab sessions behind a REST API on a Unix socket (docs/daemon.md). The only
    // target that links the HTTP server; Kernel, the simulator and the helper never see it.
    .target(
      name: "Daemon",
      dependencies: [
        "Lab", "Kernel", "OCI",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
      ]),
    // The command line and the REPL loop.
    .target(
      name: "CLI",
      dependencies: [
        "Lab", "Kernel", "OCI", "Simulator", "LinuxBackend", "CReadline", "CShim", "Daemon",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]),
    .executableTarget(name: "boxwalk", dependencies: ["CLI"]),
    // Benchmarks, run by hand through bench/run (issue 10); never by CI or swift test.
    .executableTarget(name: "BoxwalkBench", dependencies: ["Lab", "Kernel", "LinuxBackend", "Simulator", "OCI"]),
    // The differential tester (docs/difftest.md): random sessions on sim and real, compared as
    // `boxwalk test` compares transcripts; drives the boxwalk executable through pipes.
    .executableTarget(name: "BoxwalkDiffTest", dependencies: ["Lab", "Kernel"]),

    .testTarget(name: "KernelTests", dependencies: ["Kernel", "OCI"]),
    .testTarget(name: "SimulatorTests", dependencies: ["Simulator", "Kernel", "OCI"]),
    .testTarget(name: "LabTests", dependencies: ["Lab", "Simulator", "Kernel", "OCI"]),
    // Test support: the host snapshot every test that may touch the host checks before and after
    // (imports only Foundation, Glibc and Testing).
    .target(name: "HostSnapshotSupport", path: "Tests/HostSnapshotSupport"),
    .testTarget(
      name: "LinuxBackendTests",
      dependencies: [
        "LinuxBackend", "Kernel", "HelperWire", "NetWire", "OCI", "Lab", "Simulator", "CShim", "HostSnapshotSupport",
      ]),
    .testTarget(name: "NetWireTests", dependencies: ["NetWire"]),
    .testTarget(name: "HelperWireTests", dependencies: ["HelperWire", "Kernel"]),
    .testTarget(
      name: "CLITests", dependencies: ["CLI", "Lab", "Simulator", "LinuxBackend", "Kernel", "HostSnapshotSupport"]),
    // Drives a real `boxwalk daemon` with curl; checks the OpenAPI document against the router.
    .testTarget(name: "DaemonTests", dependencies: ["Daemon", "HostSnapshotSupport"]),
  ],
  swiftLanguageModes: [.v6]
)

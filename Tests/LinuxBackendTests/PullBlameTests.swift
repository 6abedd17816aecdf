import Foundation
import Glibc
import Kernel
import Testing

@testable import LinuxBackend
@testable import OCI

/// An error of `image pull` names the request that brought the bad answer. A registry that served
/// a manifest boxwalk cannot read (not JSON, or JSON that is no image manifest, or one with more
/// layers than a box stacks) was blamed on the GET of the config, a request that was never made.
@Suite struct PullBlameTests {
  @Test(.requiresRoot) func aBadManifestIsBlamedOnTheManifestsGET() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    defer { kernel.teardown() }
    for body in ["not json", "{\"schemaVersion\": 2}", "[]"] {
      let server = try PullBudgetTests.serve(Array(body.utf8), [], [])
      defer { server.stop() }
      let ref = try RegistryRef.parse("127.0.0.1:\(server.port)/bad:v1").get()
      let step = Step.layer(.imagePull(ref: ref))
      let error = #expect(throws: KernelError.self) { try kernel.perform(step) }
      #expect(error?.errno == .EBADMSG, "\(String(describing: error))")
      #expect(
        error?.failed == .layer(.registryGetManifest(repository: "bad", tag: "v1")),
        "\(body): \(String(describing: error?.call))")
      #expect(!server.requests.contains { $0.contains("/blobs/") })
    }
  }

  /// A config that does not fit the manifest is the config GET's fault, as before.
  @Test(.requiresRoot) func aBadConfigIsBlamedOnTheBlobGET() throws {
    let root = try TemporaryDirectory()
    defer { root.remove() }
    let kernel = try LinuxKernel(stateRoot: root.path + "/state", ephemeralImages: true)
    defer { kernel.teardown() }
    let config = Array("not json".utf8)
    let server = try PullBudgetTests.serve(PullBudgetTests.manifest(config: config, blobs: []), config, [])
    defer { server.stop() }
    let step = Step.layer(.imagePull(ref: try RegistryRef.parse("127.0.0.1:\(server.port)/bad:v1").get()))
    let error = #expect(throws: KernelError.self) { try kernel.perform(step) }
    #expect(error?.errno == .EBADMSG, "\(String(describing: error))")
    #expect(error?.failed == .layer(.registryGetBlobs(repository: "bad")))
  }
}

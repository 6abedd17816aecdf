import Foundation  // to read Package.swift and walk the targets' folders
import Testing

/// Every module of this package that a target imports is a dependency it declares in
/// Package.swift. SwiftPM builds a target that imports an undeclared module of its own package
/// whenever some other target happens to pull that module in first, so the mistake goes unnoticed
/// until that other target changes; and the dependency rules in docs/architecture.md are only true
/// if Package.swift tells them.
@Suite struct DeclaredImportsTests {
  static let root = DocumentCitationTests.root

  /// Each target's name and the names in its `dependencies:` list (products included), read from
  /// the manifest's text: `.target(name: "Lab", dependencies: ["Kernel"])`.
  static func declaredDependencies(manifest: String) -> [String: Set<String>] {
    let target =
      #/\.(?:target|testTarget|executableTarget|systemLibrary)\(\s*name:\s*"(\w+)"(?:,\s*dependencies:\s*\[([^\]]*)\])?/#
    var out: [String: Set<String>] = [:]
    for match in manifest.matches(of: target) {
      let names = (match.output.2.map(String.init) ?? "").matches(of: #/"(\w+)"/#).map { String($0.output.1) }
      out[String(match.output.1)] = Set(names)
    }
    return out
  }

  /// The modules a source file imports (`import X`, `@testable import X`).
  static func imports(in text: String) -> Set<String> {
    Set(text.matches(of: #/(?m)^(?:@testable )?import (\w+)/#).map { String($0.output.1) })
  }

  /// `target imports X, which it does not declare`, for every import of a package module missing
  /// from the target's dependencies.
  static func problems(declared: [String: Set<String>], imported: [String: Set<String>]) -> [String] {
    let modules = Set(declared.keys)
    var found: [String] = []
    for (target, names) in imported.sorted(by: { $0.key < $1.key }) {
      let own = declared[target] ?? []
      for name in names.sorted() where modules.contains(name) && name != target && !own.contains(name) {
        found.append("\(target) imports \(name), which Package.swift does not list in its dependencies")
      }
    }
    return found
  }

  @Test func theCheckFindsAnUndeclaredImport() {
    let manifest = """
      .target(name: "Kernel"),
      .target(name: "Lab", dependencies: ["Kernel"]),
      .testTarget(
        name: "LabTests",
        dependencies: ["Lab", .product(name: "ArgumentParser", package: "swift-argument-parser")]),
      """
    let declared = Self.declaredDependencies(manifest: manifest)
    #expect(declared == ["Kernel": [], "Lab": ["Kernel"], "LabTests": ["Lab", "ArgumentParser"]])
    let imported: [String: Set<String>] = ["LabTests": ["Lab", "Kernel", "Foundation", "Testing"], "Lab": ["Kernel"]]
    #expect(
      Self.problems(declared: declared, imported: imported)
        == ["LabTests imports Kernel, which Package.swift does not list in its dependencies"])
  }

  @Test func everyTargetDeclaresThePackageModulesItImports() throws {
    let manifest = try String(contentsOfFile: Self.root + "/Package.swift", encoding: .utf8)
    let declared = Self.declaredDependencies(manifest: manifest)
    #expect(declared.count > 10, "read too few targets from Package.swift")
    let manager = FileManager.default
    var imported: [String: Set<String>] = [:]
    for target in declared.keys {
      // A target lives in Sources/NAME or Tests/NAME (SwiftPM's default paths; the one
      // test-support target sets path: "Tests/NAME" to the same effect).
      for folder in ["Sources", "Tests"] {
        let base = Self.root + "/" + folder + "/" + target
        guard let walker = manager.enumerator(atPath: base) else { continue }
        for case let relative as String in walker where relative.hasSuffix(".swift") {
          guard let text = try? String(contentsOfFile: base + "/" + relative, encoding: .utf8) else { continue }
          imported[target, default: []].formUnion(Self.imports(in: text))
        }
      }
    }
    #expect(imported["LinuxBackendTests"] != nil, "found no sources for the test targets under \(Self.root)")
    let problems = Self.problems(declared: declared, imported: imported)
    #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
  }
}

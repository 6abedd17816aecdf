import Foundation  // to walk the source folders
import Testing

/// Both ends of the helper protocol link the HelperWire module, so they cannot drift apart; and
/// the module stays free of imports, because boxwalk-helper is a small static executable that
/// links neither Foundation nor anything else it does not need.
@Suite struct HelperWireModuleTests {
  /// The package's root: three levels up from this file (Tests/HelperWireTests/FILE).
  static let root = "/" + #filePath.split(separator: "/").dropLast(3).joined(separator: "/")

  /// Every file under `folder`, relative to it.
  static func files(under folder: String) -> [String] {
    guard let walker = FileManager.default.enumerator(atPath: root + "/" + folder) else { return [] }
    return walker.compactMap { $0 as? String }
  }

  /// A source file shared through a symbolic link is compiled twice, into two modules, with two
  /// copies of every type; a module that both sides depend on is the one way to share code.
  @Test func noSourceFileIsASymbolicLink() throws {
    var links: [String] = []
    for folder in ["Sources", "Tests"] {
      for relative in Self.files(under: folder) {
        let path = Self.root + "/" + folder + "/" + relative
        let kind = try FileManager.default.attributesOfItem(atPath: path)[.type] as? FileAttributeType
        if kind == .typeSymbolicLink { links.append(folder + "/" + relative) }
      }
    }
    #expect(!Self.files(under: "Sources").isEmpty, "found no sources under \(Self.root)")
    #expect(links.isEmpty, "symbolic links among the sources: \(links)")
  }

  @Test func theWireModuleImportsNothing() throws {
    let sources = Self.files(under: "Sources/HelperWire").filter { $0.hasSuffix(".swift") }
    #expect(!sources.isEmpty)
    for relative in sources {
      let text = try String(contentsOfFile: Self.root + "/Sources/HelperWire/" + relative, encoding: .utf8)
      let imports = text.split(separator: "\n").filter { $0.hasPrefix("import ") || $0.hasPrefix("@_exported import ") }
      #expect(imports.isEmpty, "\(relative): \(imports)")
    }
  }
}

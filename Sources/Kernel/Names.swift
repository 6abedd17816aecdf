/// Name rules (docs/architecture.md, "Errors"), checked before any syscall. Names of boxes, layers,
/// images and interfaces match `[A-Za-z0-9][A-Za-z0-9_.-]*`. A box name also becomes part of
/// interface names later (`veth-web`), and an interface name is at most 15 bytes (IFNAMSIZ 16 with
/// its NUL), so box names are limited to 15 bytes too.
public enum Names {
  public static let maxBoxName = 15
  /// IFNAMSIZ is 16 with the terminating NUL (netdevice(7)): an interface name has 15 bytes at most.
  public static let maxInterfaceName = 15
  /// HOST_NAME_MAX (limits.h), what sethostname(2) accepts; setdomainname(2) has the same limit.
  public static let maxHostname = 64
  public static let reservedBoxNames: Set<String> = ["host", "all", "outside"]

  public enum Problem: Error, Equatable, Sendable {
    case empty
    case badFirstCharacter(Character)
    case badCharacter(Character, column: Int)
    case tooLong(bytes: Int, limit: Int)
    case reserved
  }

  public static func checkName(_ name: String, limit: Int) -> Problem? {
    guard let first = name.first else { return .empty }
    if !(first.isASCII && (first.isLetter || first.isNumber)) { return .badFirstCharacter(first) }
    for (i, c) in name.enumerated() where !(c.isASCII && (c.isLetter || c.isNumber || c == "_" || c == "." || c == "-"))
    {
      return .badCharacter(c, column: i + 1)
    }
    if name.utf8.count > limit { return .tooLong(bytes: name.utf8.count, limit: limit) }
    return nil
  }

  /// Interface names: the same characters as every name (the kernel itself refuses "/", ":" and
  /// white space, dev_valid_name in net/core/dev.c), at most 15 bytes.
  public static func checkInterfaceName(_ name: String) -> Problem? {
    checkName(name, limit: maxInterfaceName)
  }

  public static func checkBoxName(_ name: String) -> Problem? {
    if reservedBoxNames.contains(name) { return .reserved }
    return checkName(name, limit: maxBoxName)
  }
}

import CShim
import Glibc
import HelperWire

/// The namespace area's plan entries, made by the helper on itself (Calls.swift).
extension NamespaceOperations {
  func make(_ call: NamespaceCall, _ state: inout CallState, box: BoxOperations) -> Calls.Outcome {
    switch call {
    case .sethostname(let name):
      // sethostname(2) changes the name kept in the caller's UTS namespace: every process in it
      // sees the new one (uts_namespaces(7)).
      let rc = Self.withCString(name) { bw_sethostname($0, $1) }
      return rc == 0 ? .made() : .failed(errno: errno)
    case .setdomainname(let name):
      let rc = Self.withCString(name) { bw_setdomainname($0, $1) }
      return rc == 0 ? .made() : .failed(errno: errno)
    }
  }
}

/// A failed system call inside the backend, before it becomes a `KernelError`: the call as
/// strace would print it (host PIDs written as `<box>`) and the raw errno.
package struct SystemCallError: Error, Equatable {
  package var call: String
  package var errno: Int32

  package init(call: String, errno: Int32) {
    self.call = call
    self.errno = errno
  }
}

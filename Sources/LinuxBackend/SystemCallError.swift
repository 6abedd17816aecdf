/// A failed system call inside the backend, before it becomes a `KernelError`: the call as
/// strace would print it (host PIDs written as `<box>`) and the raw errno.
struct SystemCallError: Error, Equatable {
  var call: String
  var errno: Int32
}

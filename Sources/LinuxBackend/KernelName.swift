import Kernel

/// Names the kernel keeps as bytes, not text: a hostname and domainname (sethostname(2) takes any
/// bytes), a process's comm (prctl(2) PR_SET_NAME) and its arguments (execve(2)). Decoding them as
/// UTF-8 would turn odd bytes into U+FFFD, so two different names could show alike, and control
/// bytes would reach the learner's terminal. They are shown escaped as file names are (`\xNN`,
/// one-to-one, see FileName), and a name that is plain text reads as it is.
enum KernelName {
  static func shown(_ bytes: some Collection<UInt8>) -> String { FileName.escaped(bytes) }
}

import Testing
@Test func placeholderLinuxBackend() {}

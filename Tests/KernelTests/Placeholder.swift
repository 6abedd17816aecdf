import Testing
@Test func placeholderKernel() {}

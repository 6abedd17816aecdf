import Testing
@Test func placeholderLab() {}

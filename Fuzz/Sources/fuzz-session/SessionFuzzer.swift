/// libFuzzer's entry: the input's bytes choose up to 64 steps of a conversation between
/// devices and a daemon session (see `SessionHarness`), then the store is checked.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSession(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    do {
        let harness = try SessionHarness(options: .current)
        var steps = 0
        while !input.isEmpty && steps < 64 {
            try harness.step(&input)
            steps += 1
        }
        try harness.finish()
    } catch {
        preconditionFailure("the store failed: \(error)")
    }
    return 0
}

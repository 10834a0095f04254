/// The fuzzer's bytes read as a sequence of choices; past the end every choice is the first.
struct FuzzInput {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    var isEmpty: Bool { offset >= bytes.count }

    mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A number in `0..<count`.
    mutating func pick(_ count: Int) -> Int {
        Int(byte()) % count
    }

    mutating func pick<T>(_ options: [T]) -> T {
        options[pick(options.count)]
    }

    /// True about once in `odds` choices (never past the end).
    mutating func chance(_ odds: Int) -> Bool {
        pick(odds) == odds - 1
    }

    /// The next `count` bytes (fewer at the end).
    mutating func take(_ count: Int) -> [UInt8] {
        let end = min(bytes.count, offset + count)
        defer { offset = end }
        return offset < end ? Array(bytes[offset..<end]) : []
    }

    mutating func int64() -> Int64 {
        take(8).reduce(Int64(0)) { $0 << 8 | Int64($1) }
    }
}

import SyncCore

/// The compact binary form of a record state kept in `_sync_state` columns.
///
/// Layout (version 1): version byte; context as count + (replica, counter) pairs; fields as
/// count + (name, values) where each value is (context index of its replica, counter,
/// timestamp, tagged value). Integers are LEB128 varints (zigzag for signed values).
enum RecordStateCodec {
    static let version: UInt8 = 1

    static func encode(_ state: RecordState) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + state.fields.count * 24)
        out.append(version)
        let entries = state.context.entries
        appendVarint(UInt64(entries.count), to: &out)
        for entry in entries {
            appendString(entry.replica.rawValue, to: &out)
            appendVarint(UInt64(entry.counter), to: &out)
        }
        appendVarint(UInt64(state.fields.count), to: &out)
        for field in state.fields {
            appendString(field.name, to: &out)
            appendVarint(UInt64(field.register.values.count), to: &out)
            for value in field.register.values {
                let replicaIndex = entries.firstIndex { $0.replica == value.dot.replica } ?? 0
                appendVarint(UInt64(replicaIndex), to: &out)
                appendVarint(UInt64(value.dot.counter), to: &out)
                appendVarint(UInt64(bitPattern: value.timestamp.rawValue), to: &out)
                appendValue(value.value, to: &out)
            }
        }
        return out
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws(StoreError) -> RecordState {
        var reader = Reader(bytes: bytes)
        do {
            guard try reader.byte() == version else { throw Reader.Failure() }
            let entryCount = try reader.count()
            var entries: [VersionVector.Entry] = []
            entries.reserveCapacity(entryCount)
            for _ in 0..<entryCount {
                let replica = try ReplicaID(try reader.string())
                entries.append(VersionVector.Entry(replica: replica, counter: try reader.positive()))
            }
            let context = try VersionVector(validating: entries)
            let fieldCount = try reader.count()
            var fields: [RecordState.Field] = []
            fields.reserveCapacity(fieldCount)
            for _ in 0..<fieldCount {
                let name = try reader.string()
                let valueCount = try reader.count()
                var values: [RegisterValue] = []
                values.reserveCapacity(valueCount)
                for _ in 0..<valueCount {
                    let replicaIndex = try reader.count()
                    guard replicaIndex < entries.count else { throw Reader.Failure() }
                    let dot = Dot(replica: entries[replicaIndex].replica, counter: try reader.positive())
                    let timestamp = HybridTimestamp(rawValue: Int64(bitPattern: try reader.varint()))
                    values.append(RegisterValue(value: try reader.value(), dot: dot, timestamp: timestamp))
                }
                fields.append(RecordState.Field(name: name, register: try MultiValueRegister(validating: values)))
            }
            guard reader.isAtEnd else { throw Reader.Failure() }
            return try RecordState(validatingFields: fields, context: context)
        } catch {
            throw StoreError(.corruptState, "a stored record state is damaged and cannot be decoded")
        }
    }

    // MARK: Writing

    private static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: value) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    private static func appendString(_ string: String, to out: inout [UInt8]) {
        let utf8 = string.utf8
        appendVarint(UInt64(utf8.count), to: &out)
        out.append(contentsOf: utf8)
    }

    private static func appendValue(_ value: FieldValue, to out: inout [UInt8]) {
        switch value {
        case .null:
            out.append(0)
        case .bool(let flag):
            out.append(flag ? 2 : 1)
        case .integer(let number):
            out.append(3)
            appendVarint(UInt64(bitPattern: (number << 1) ^ (number >> 63)), to: &out)
        case .real(let number):
            out.append(4)
            withUnsafeBytes(of: number.bitPattern.littleEndian) { out.append(contentsOf: $0) }
        case .text(let text):
            out.append(5)
            appendString(text, to: &out)
        }
    }

    // MARK: Reading

    private struct Reader {
        struct Failure: Error {}

        let bytes: UnsafeRawBufferPointer
        var offset = 0

        var isAtEnd: Bool { offset == bytes.count }

        mutating func byte() throws(Failure) -> UInt8 {
            guard offset < bytes.count else { throw Failure() }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func varint() throws(Failure) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while true {
                let next = try byte()
                guard shift < 64 else { throw Failure() }
                result |= UInt64(next & 0x7F) << shift
                if next < 0x80 { return result }
                shift += 7
            }
        }

        /// A count bounded by the bytes left, so damaged input cannot ask for huge allocations.
        mutating func count() throws(Failure) -> Int {
            let value = try varint()
            guard value <= UInt64(bytes.count - offset) else { throw Failure() }
            return Int(value)
        }

        mutating func positive() throws(Failure) -> Int64 {
            let value = try varint()
            guard value > 0, value <= UInt64(Int64.max) else { throw Failure() }
            return Int64(value)
        }

        mutating func string() throws(Failure) -> String {
            let length = try count()
            let slice = UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
            offset += length
            guard let string = String(validating: slice, as: UTF8.self) else {
                throw Failure()
            }
            return string
        }

        mutating func value() throws(Failure) -> FieldValue {
            switch try byte() {
            case 0: return .null
            case 1: return .bool(false)
            case 2: return .bool(true)
            case 3:
                let raw = try varint()
                return .integer(Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1))))
            case 4:
                guard bytes.count - offset >= 8 else { throw Failure() }
                var bits: UInt64 = 0
                for index in 0..<8 { bits |= UInt64(bytes[offset + index]) << (8 * UInt64(index)) }
                offset += 8
                return .real(Double(bitPattern: bits))
            case 5: return .text(try string())
            default: throw Failure()
            }
        }
    }
}

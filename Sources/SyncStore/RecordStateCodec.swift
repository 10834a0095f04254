import Foundation
import SyncCore

/// The compact binary form of a record state kept in `_sync_state` columns, for one collection.
///
/// A live record's row already holds every visible value in its columns, so the blob holds
/// only what the columns cannot: the causal context, the dot and timestamp of each value, and
/// the values of conflicting fields. Field names are indexes into the collection's
/// declaration, and the most common dot is written once.
///
/// Layout (version 2), integers as LEB128 varints:
/// - version byte;
/// - context: count, then (replica as length-prefixed UTF-8, counter) pairs;
/// - field count, then the base dot (when there are fields): context index of its replica,
///   counter, timestamp;
/// - then for each field: name reference (0 = literal name follows, k = k-th known
///   name: `_deleted`, then the declared fields in order), a kind byte, then its payload.
///   Kind bits: 1 = own dot follows (else the base dot), 2 = value implied (a live row's
///   column, or existence from where the row lives), 4 = siblings: count, then (replica
///   index, counter, timestamp, value) each. A value is a tag byte (0 null, 1 false, 2 true,
///   3 zigzag integer, 4 little-endian double, 5 text) and its payload.
///
/// A live record written by a single write (every field and the context carry one dot: a
/// new record, the most common case by far) uses the short form (version 3): the replica,
/// the counter, the timestamp, and a varint bit mask of which known names it holds.
struct RecordStateCodec: Sendable {
    static let version: UInt8 = 2
    static let singleWriteVersion: UInt8 = 3

    private static let ownDot: UInt8 = 1
    private static let implied: UInt8 = 2
    private static let siblings: UInt8 = 4

    /// `_deleted`, then the declared fields in column order.
    let knownNames: [String]
    /// The known names sorted by name, with their references.
    private let referencesByName: [(name: String, reference: Int)]

    /// The declared fields' names sorted by name: the names of a single write of every field,
    /// one array shared by all of them.
    private let declaredNamesByName: [String]
    /// The short-form mask of a single write of every field.
    private let allNamesMask: UInt64

    init(schema: CollectionSchema) {
        knownNames = [RecordState.deletedField] + schema.fields.map(\.name)
        referencesByName = knownNames.enumerated().map { ($1, $0 + 1) }.sorted { RecordState.namePrecedes($0.0, $1.0) }
        declaredNamesByName = referencesByName.filter { $0.reference > 1 }.map(\.name)
        allNamesMask = knownNames.count >= 64 ? .max : (1 << UInt64(knownNames.count)) - 1
    }

    /// Encodes `state`. With `live`, declared fields' single values are left to the row's
    /// columns and existence is implied.
    func encode(_ state: RecordState, live: Bool) -> [UInt8] {
        if live, let single = singleWriteForm(state) { return single }
        var out: [UInt8] = []
        out.reserveCapacity(48 + state.fields.count * 4)
        out.append(RecordStateCodec.version)
        let entries = state.context.entries
        Self.appendVarint(UInt64(entries.count), to: &out)
        for entry in entries {
            Self.appendString(entry.replica.rawValue, to: &out)
            Self.appendVarint(UInt64(entry.counter), to: &out)
        }
        Self.appendVarint(UInt64(state.fields.count), to: &out)
        let base = state.commonStamp ?? state.fields.first?.register.values[0]
        if let base { appendDot(base, entries, to: &out) }
        // Fields and known names are both sorted: walk them side by side.
        var known = 0
        for field in state.fields {
            while known < referencesByName.count, RecordState.namePrecedes(referencesByName[known].name, field.name) {
                known += 1
            }
            let reference =
                known < referencesByName.count && referencesByName[known].name == field.name
                ? referencesByName[known].reference : nil
            if let reference {
                Self.appendVarint(UInt64(reference), to: &out)
            } else {
                out.append(0)
                Self.appendString(field.name, to: &out)
            }
            guard let value = field.register.single else {
                out.append(Self.siblings)
                let values = field.register.values
                Self.appendVarint(UInt64(values.count), to: &out)
                for value in values {
                    appendDot(value, entries, to: &out)
                    Self.appendValue(value.value, to: &out)
                }
                continue
            }
            let sharesBase = base.map { $0.dot == value.dot && $0.timestamp == value.timestamp } ?? false
            // Existence is implied by where the row lives; a declared field by its live column.
            let isImplied = reference == 1 || (live && reference != nil)
            out.append((sharesBase ? 0 : Self.ownDot) | (isImplied ? Self.implied : 0))
            if !sharesBase { appendDot(value, entries, to: &out) }
            if !isImplied { Self.appendValue(value.value, to: &out) }
        }
        return out
    }

    /// Encodes the state of a brand-new live record written once by `dot`, with a value for
    /// each declared field where `present` is true: byte for byte what `encode(_:live:)` gives
    /// for that state, without building it.
    func encodeNewLiveRecord(present: (Int) -> Bool, dot: Dot, timestamp: HybridTimestamp) -> [UInt8] {
        withNewLiveRecord(present: present, dot: dot, timestamp: timestamp) { Array($0) }
    }

    /// `encodeNewLiveRecord`, handing the bytes to `body` from a stack buffer (no allocation).
    func withNewLiveRecord<T>(
        present: (Int) -> Bool, dot: Dot, timestamp: HybridTimestamp, _ body: (UnsafeRawBufferPointer) -> T
    ) -> T {
        var mask: UInt64 = 1
        for index in 0..<(knownNames.count - 1) where present(index) { mask |= 1 << UInt64(index + 1) }
        return Self.withSingleWrite(dot: dot, timestamp: timestamp, mask: mask, body)
    }

    /// `encode(state, live:)`, handing the bytes to `body`; the short form comes from a stack
    /// buffer (no allocation).
    func withEncoded<T>(_ state: RecordState, live: Bool, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        if live, let (dot, timestamp, mask) = singleWrite(of: state) {
            return Self.withSingleWrite(dot: dot, timestamp: timestamp, mask: mask, body)
        }
        return encode(state, live: live).withUnsafeBytes(body)
    }

    /// The short form of a live state written by one write, or nil when the state is anything else.
    private func singleWriteForm(_ state: RecordState) -> [UInt8]? {
        singleWrite(of: state).map { Self.singleWrite(dot: $0.dot, timestamp: $0.timestamp, mask: $0.mask) }
    }

    /// The one write of a live state written by one write (its dot, timestamp and field mask),
    /// or nil when the state is anything else.
    private func singleWrite(of state: RecordState) -> (dot: Dot, timestamp: HybridTimestamp, mask: UInt64)? {
        guard knownNames.count <= 64, state.context.entries.count == 1,
            let first = state.fields.first?.register.single
        else { return nil }
        let entry = state.context.entries[0]
        guard first.dot.replica == entry.replica, first.dot.counter == entry.counter else { return nil }
        var mask: UInt64 = 0
        var known = 0
        for field in state.fields {
            guard let value = field.register.single, value.dot == first.dot, value.timestamp == first.timestamp else {
                return nil
            }
            while known < referencesByName.count, RecordState.namePrecedes(referencesByName[known].name, field.name) {
                known += 1
            }
            guard known < referencesByName.count, referencesByName[known].name == field.name else { return nil }
            mask |= 1 << UInt64(referencesByName[known].reference - 1)
        }
        // Existence must be asserted (a live put); a record without `_deleted` takes the long form.
        guard mask & 1 == 1 else { return nil }
        return (first.dot, first.timestamp, mask)
    }

    private static func singleWrite(dot: Dot, timestamp: HybridTimestamp, mask: UInt64) -> [UInt8] {
        withSingleWrite(dot: dot, timestamp: timestamp, mask: mask) { Array($0) }
    }

    /// The short form (version 3), built in a stack buffer and handed to `body`.
    private static func withSingleWrite<T>(
        dot: Dot, timestamp: HybridTimestamp, mask: UInt64, _ body: (UnsafeRawBufferPointer) -> T
    ) -> T {
        // Version, a replica of at most 64 bytes with its length, and three varints.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 104) { buffer in
            var count = 0
            func varint(_ value: UInt64) {
                var value = value
                while value >= 0x80 {
                    buffer[count] = UInt8(truncatingIfNeeded: value) | 0x80
                    count += 1
                    value >>= 7
                }
                buffer[count] = UInt8(value)
                count += 1
            }
            buffer[0] = singleWriteVersion
            count = 1
            var replica = dot.replica.rawValue
            replica.withUTF8 { bytes in
                varint(UInt64(bytes.count))
                for byte in bytes {
                    buffer[count] = byte
                    count += 1
                }
            }
            varint(UInt64(dot.counter))
            varint(UInt64(bitPattern: timestamp.rawValue))
            varint(mask)
            return body(UnsafeRawBufferPointer(start: buffer.baseAddress, count: count))
        }
    }

    private func decodeSingleWrite(_ reader: inout Reader, column: ((Int) -> FieldValue)?) throws -> RecordState {
        guard let column else { throw Reader.Failure() }
        var memo = ScanMemo()
        return try singleWrite(&reader, memo: &memo, column: column).state
    }

    /// The single write a live row's blob describes, its values read from the row's columns
    /// (`column(i)` reads the i-th declared field); nil when the blob is in the long form.
    ///
    /// - Parameter memo: what the previous rows of a scan decoded to, reused when this row
    ///   has the same (see `ScanMemo`).
    func decodeSingleWrite(
        _ bytes: UnsafeRawBufferPointer, memo: inout ScanMemo, column: (Int) -> FieldValue
    ) throws(StoreError) -> SingleWrite? {
        guard bytes.first == Self.singleWriteVersion else { return nil }
        var reader = Reader(bytes: bytes, offset: 1)
        do {
            return try singleWrite(&reader, memo: &memo, column: column)
        } catch {
            throw StoreError(.corruptState, "a stored record state is damaged and cannot be decoded")
        }
    }

    private static func bytes(of replica: ReplicaID, equal bytes: UnsafeRawBufferPointer) -> Bool {
        var text = replica.rawValue
        return text.withUTF8 { utf8 in
            utf8.count == bytes.count
                && (utf8.isEmpty || memcmp(utf8.baseAddress!, bytes.baseAddress!, utf8.count) == 0)
        }
    }

    /// Reads the short form after its version byte.
    /// The replica and field lists the rows of a scan decoded to: rows of one writer follow
    /// each other, and a collection's rows set one of a few field lists (one per kind of
    /// station, say), so rows share one id and one names array per field list.
    struct ScanMemo {
        var replica: ReplicaID?
        /// Recent field lists by short-form mask (at most `capacity`).
        var names: [(mask: UInt64, names: [String])] = []
        static let capacity = 16
    }

    private func singleWrite(_ reader: inout Reader, memo: inout ScanMemo, column: (Int) -> FieldValue)
        throws -> SingleWrite
    {
        let replica: ReplicaID
        let replicaBytes = try reader.slice()
        if let last = memo.replica, Self.bytes(of: last, equal: replicaBytes) {
            replica = last
        } else {
            guard let text = String(validating: replicaBytes, as: UTF8.self) else { throw Reader.Failure() }
            replica = try ReplicaID(text)
            memo.replica = replica
        }
        let dot = Dot(replica: replica, counter: try reader.positive())
        let timestamp = HybridTimestamp(rawValue: Int64(bitPattern: try reader.varint()))
        let mask = try reader.varint()
        guard reader.isAtEnd, mask & 1 == 1, knownNames.count == 64 || mask >> UInt64(knownNames.count) == 0 else {
            throw Reader.Failure()
        }
        let names: [String]
        if mask == allNamesMask {
            names = declaredNamesByName
        } else if let known = memo.names.first(where: { $0.mask == mask }) {
            names = known.names
        } else {
            names = referencesByName.compactMap { name, reference in
                reference > 1 && mask & (1 << UInt64(reference - 1)) != 0 ? name : nil
            }
            if memo.names.count == ScanMemo.capacity { memo.names.removeFirst() }
            memo.names.append((mask, names))
        }
        var values: [FieldValue] = []
        values.reserveCapacity(names.count)
        for (_, reference) in referencesByName where reference > 1 && mask & (1 << UInt64(reference - 1)) != 0 {
            values.append(column(reference - 2))
        }
        return SingleWrite(dot: dot, timestamp: timestamp, orderedNames: names, values: values)
    }

    /// Decodes a blob. `column(i)` reads the i-th declared field's column of a live row; nil
    /// means the record is deleted (a tombstone, with no columns).
    func decode(_ bytes: UnsafeRawBufferPointer, column: ((Int) -> FieldValue)?) throws(StoreError) -> RecordState {
        var reader = Reader(bytes: bytes)
        do {
            let version = try reader.byte()
            if version == RecordStateCodec.singleWriteVersion { return try decodeSingleWrite(&reader, column: column) }
            guard version == RecordStateCodec.version else { throw Reader.Failure() }
            let entryCount = try reader.count()
            var entries: [VersionVector.Entry] = []
            entries.reserveCapacity(entryCount)
            for _ in 0..<entryCount {
                let replica = try ReplicaID(try reader.string())
                entries.append(VersionVector.Entry(replica: replica, counter: try reader.positive()))
            }
            let context = try VersionVector(validating: entries)
            let fieldCount = try reader.count()
            let base = fieldCount > 0 ? try reader.dot(entries) : nil
            var fields: [RecordState.Field] = []
            fields.reserveCapacity(fieldCount)
            for _ in 0..<fieldCount {
                let reference = try reader.index(below: knownNames.count + 1)
                let name: String
                if reference == 0 {
                    name = try reader.string()
                } else {
                    name = knownNames[reference - 1]
                }
                let kind = try reader.byte()
                if kind == Self.siblings {
                    let valueCount = try reader.count()
                    var values: [RegisterValue] = []
                    values.reserveCapacity(valueCount)
                    for _ in 0..<valueCount {
                        let (dot, timestamp) = try reader.dot(entries)
                        values.append(RegisterValue(value: try reader.value(), dot: dot, timestamp: timestamp))
                    }
                    fields.append(RecordState.Field(name: name, register: try MultiValueRegister(validating: values)))
                    continue
                }
                guard kind & ~(Self.ownDot | Self.implied) == 0 else { throw Reader.Failure() }
                let stamp: (dot: Dot, timestamp: HybridTimestamp)
                if kind & Self.ownDot != 0 {
                    stamp = try reader.dot(entries)
                } else {
                    guard let base else { throw Reader.Failure() }
                    stamp = base
                }
                let value: FieldValue
                if kind & Self.implied == 0 {
                    value = try reader.value()
                } else if reference == 1 {
                    value = .bool(column == nil)
                } else {
                    guard reference > 1, let column else { throw Reader.Failure() }
                    value = column(reference - 2)
                }
                let register = MultiValueRegister(
                    RegisterValue(value: value, dot: stamp.dot, timestamp: stamp.timestamp))
                fields.append(RecordState.Field(name: name, register: register))
            }
            guard reader.isAtEnd else { throw Reader.Failure() }
            return try RecordState(validatingFields: fields, context: context)
        } catch {
            throw StoreError(.corruptState, "a stored record state is damaged and cannot be decoded")
        }
    }

    // MARK: Writing

    private func appendDot(_ value: RegisterValue, _ entries: [VersionVector.Entry], to out: inout [UInt8]) {
        let replicaIndex = entries.firstIndex { $0.replica == value.dot.replica } ?? 0
        Self.appendVarint(UInt64(replicaIndex), to: &out)
        Self.appendVarint(UInt64(value.dot.counter), to: &out)
        Self.appendVarint(UInt64(bitPattern: value.timestamp.rawValue), to: &out)
    }

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

        init(bytes: UnsafeRawBufferPointer, offset: Int = 0) {
            self.bytes = bytes
            self.offset = offset
        }

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

        /// An index into a table of `limit` entries.
        mutating func index(below limit: Int) throws(Failure) -> Int {
            let value = try varint()
            guard value < UInt64(limit) else { throw Failure() }
            return Int(value)
        }

        mutating func positive() throws(Failure) -> Int64 {
            let value = try varint()
            guard value > 0, value <= UInt64(Int64.max) else { throw Failure() }
            return Int64(value)
        }

        mutating func dot(_ entries: [VersionVector.Entry]) throws(Failure) -> (dot: Dot, timestamp: HybridTimestamp) {
            let replicaIndex = try index(below: entries.count)
            let dot = Dot(replica: entries[replicaIndex].replica, counter: try positive())
            return (dot, HybridTimestamp(rawValue: Int64(bitPattern: try varint())))
        }

        mutating func string() throws(Failure) -> String {
            guard let string = String(validating: try slice(), as: UTF8.self) else { throw Failure() }
            return string
        }

        /// A length-prefixed run of bytes.
        mutating func slice() throws(Failure) -> UnsafeRawBufferPointer {
            let length = try count()
            defer { offset += length }
            return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + length])
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

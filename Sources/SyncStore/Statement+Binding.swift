import GRDB
import GRDBSQLite
import SyncCore

/// Direct binding and stepping for hot paths: values go straight to `sqlite3_bind_*` with no
/// intermediate argument arrays. Used by the store and by the benchmark's raw-SQLite baseline
/// alike, so their comparison measures the sync layer and not the binding layer.
extension Statement {
    /// Resets the statement and clears its bindings, ready for new values.
    public func resetBindings() {
        sqlite3_reset(sqliteStatement)
        sqlite3_clear_bindings(sqliteStatement)
    }

    public func bind(_ value: FieldValue, at index: Int32) {
        switch value {
        case .null: sqlite3_bind_null(sqliteStatement, index)
        case .bool(let flag): sqlite3_bind_int64(sqliteStatement, index, flag ? 1 : 0)
        case .integer(let number): sqlite3_bind_int64(sqliteStatement, index, number)
        case .real(let number): sqlite3_bind_double(sqliteStatement, index, number)
        case .text(let text): bind(text, at: index)
        }
    }

    public func bind(_ text: String, at index: Int32) {
        var text = text
        text.withUTF8 { utf8 in
            _ = sqlite3_bind_text(
                sqliteStatement, index, UnsafeRawPointer(utf8.baseAddress)?.assumingMemoryBound(to: CChar.self),
                Int32(utf8.count), sqliteTransient)
        }
    }

    public func bindNull(at index: Int32) {
        sqlite3_bind_null(sqliteStatement, index)
    }

    public func bind(_ number: Int64, at index: Int32) {
        sqlite3_bind_int64(sqliteStatement, index, number)
    }

    public func bind(_ bytes: [UInt8], at index: Int32) {
        bytes.withUnsafeBytes { buffer in
            _ = sqlite3_bind_blob(sqliteStatement, index, buffer.baseAddress, Int32(buffer.count), sqliteTransient)
        }
    }

    /// Binds a copy of `bytes` (SQLite copies them now).
    func bind(_ bytes: UnsafeRawBufferPointer, at index: Int32) {
        sqlite3_bind_blob(sqliteStatement, index, bytes.baseAddress, Int32(bytes.count), sqliteTransient)
    }

    /// Binds `bytes` at `index` without copying them, then runs the statement.
    public func run(bindingBlob bytes: [UInt8], at index: Int32) throws {
        try bytes.withUnsafeBytes { buffer in
            sqlite3_bind_blob(sqliteStatement, index, buffer.baseAddress, Int32(buffer.count), nil)
            defer { sqlite3_bind_null(sqliteStatement, index) }
            try run()
        }
    }

    /// Runs a statement that returns no rows.
    public func run() throws {
        let code = sqlite3_step(sqliteStatement)
        guard code == SQLITE_DONE else {
            let error = stepError(code)
            sqlite3_reset(sqliteStatement)
            throw error
        }
        sqlite3_reset(sqliteStatement)
    }

    /// Steps once; returns false when there are no more rows.
    func nextRow() throws -> Bool {
        let code = sqlite3_step(sqliteStatement)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default: throw stepError(code)
        }
    }

    func isNull(at column: Int32) -> Bool {
        sqlite3_column_type(sqliteStatement, column) == SQLITE_NULL
    }

    func int64(at column: Int32) -> Int64 {
        sqlite3_column_int64(sqliteStatement, column)
    }

    func text(at column: Int32) -> String {
        guard let pointer = sqlite3_column_text(sqliteStatement, column) else { return "" }
        let count = Int(sqlite3_column_bytes(sqliteStatement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }

    /// A declared column's value, typed by its field type.
    func fieldValue(at column: Int32, type: FieldType) -> FieldValue {
        if sqlite3_column_type(sqliteStatement, column) == SQLITE_NULL { return .null }
        switch type {
        case .text: return .text(text(at: column))
        case .integer: return .integer(sqlite3_column_int64(sqliteStatement, column))
        case .real: return .real(sqlite3_column_double(sqliteStatement, column))
        case .boolean: return .bool(sqlite3_column_int64(sqliteStatement, column) != 0)
        }
    }

    /// Runs `body` on the bytes of a blob column.
    func withBlob<T>(at column: Int32, _ body: (UnsafeRawBufferPointer) throws(StoreError) -> T) throws(StoreError) -> T
    {
        let count = Int(sqlite3_column_bytes(sqliteStatement, column))
        guard let pointer = sqlite3_column_blob(sqliteStatement, column) else {
            throw StoreError(.corruptState, "a stored record state is empty")
        }
        return try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// The number of rows the last statement on this connection changed.
    var changedRowCount: Int32 {
        sqlite3_changes(sqlite3_db_handle(sqliteStatement))
    }

    private func stepError(_ code: Int32) -> DatabaseError {
        let connection = sqlite3_db_handle(sqliteStatement)
        return DatabaseError(
            resultCode: ResultCode(rawValue: code), message: String(cString: sqlite3_errmsg(connection)), sql: sql)
    }
}

/// SQLite's "copy this buffer now" destructor.
private let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

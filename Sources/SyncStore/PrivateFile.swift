import Foundation

/// Writes files only their owner may read (tokens, secrets): created 0600 whatever the umask,
/// written whole to a temporary file beside the target and moved into place, so a reader
/// never sees half a file and the mode never widens on a rewrite.
public enum PrivateFile {
    /// Replaces (or creates) the file at `path` with `data`.
    public static func replace(_ data: [UInt8], at path: String) throws {
        let temporary = try writeTemporary(data, beside: path)
        guard rename(temporary, path) == 0 else {
            let code = errno
            unlink(temporary)
            throw StoreError(.storage, "cannot write \(path): \(String(cString: strerror(code)))")
        }
    }

    /// Creates the file at `path` with `data` unless it exists; false when it did (another
    /// process made it first: read theirs).
    public static func create(_ data: [UInt8], at path: String) throws -> Bool {
        let temporary = try writeTemporary(data, beside: path)
        defer { unlink(temporary) }
        guard link(temporary, path) == 0 else {
            if errno == EEXIST { return false }
            throw StoreError(.storage, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
        return true
    }

    /// The permission bits of the file at `path` (for checks and tests).
    public static func mode(of path: String) -> mode_t? {
        var status = stat()
        guard stat(path, &status) == 0 else { return nil }
        return status.st_mode & 0o777
    }

    private static func writeTemporary(_ data: [UInt8], beside path: String) throws -> String {
        let temporary = "\(path).\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
        let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw StoreError(.storage, "cannot create \(temporary): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        // The umask only takes bits away; this makes the mode exact even if it was odd.
        fchmod(descriptor, 0o600)
        var written = 0
        while written < data.count {
            let count = data[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else {
                let code = errno
                unlink(temporary)
                throw StoreError(.storage, "cannot write \(temporary): \(String(cString: strerror(code)))")
            }
            written += count
        }
        guard fsync(descriptor) == 0 else {
            unlink(temporary)
            throw StoreError(.storage, "cannot sync \(temporary)")
        }
        return temporary
    }
}

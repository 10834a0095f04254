import CSQLiteFaultVFS

/// Control of the "yongai-fault" SQLite VFS: open a store with `vfs: FaultInjection.vfsName`,
/// arm a failure at the Nth write-side I/O operation, and see whether it fired.
/// The VFS is process-wide: suites that arm it must run serialized.
public enum FaultInjection {
    public static let vfsName = "yongai-fault"

    /// Registers the VFS (idempotent).
    public static func register() {
        let code = yongai_fault_vfs_register()
        precondition(code == 0, "could not register the fault-injecting SQLite VFS (code \(code))")
    }

    /// Fails operation `operation` (1-based) from now; `sticky` fails every later one too.
    public static func arm(failingOperation operation: Int, sticky: Bool) {
        yongai_fault_vfs_arm(Int32(operation), sticky ? 1 : 0)
    }

    public static func disarm() {
        yongai_fault_vfs_arm(0, 0)
    }

    public static var operations: Int { Int(yongai_fault_vfs_operations()) }
    public static var fired: Bool { yongai_fault_vfs_fired() != 0 }
}

#ifndef CSQLITE_FAULT_VFS_H
#define CSQLITE_FAULT_VFS_H

/// Registers (once) a SQLite VFS named "yongai-fault" that wraps the default VFS and can be
/// told to fail its Nth write-side I/O operation (write, sync, truncate). Returns SQLITE_OK.
int yongai_fault_vfs_register(void);

/// Arms the fault: the operation numbered `fail_at` (1-based, counted from now) fails with an
/// I/O error. With `sticky` non-zero every later operation fails too, as if the disk or the
/// process had died at that point. `fail_at` 0 disarms it.
void yongai_fault_vfs_arm(int fail_at, int sticky);

/// The number of write-side operations since the last arm.
int yongai_fault_vfs_operations(void);

/// Whether the fault has fired since the last arm.
int yongai_fault_vfs_fired(void);

#endif

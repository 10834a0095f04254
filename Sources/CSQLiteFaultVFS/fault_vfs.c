#include "CSQLiteFaultVFS.h"

#include <sqlite3.h>
#include <string.h>

typedef struct FaultFile {
    sqlite3_file base;
    sqlite3_file *real;
} FaultFile;

static sqlite3_vfs fault_vfs;
static sqlite3_vfs *base_vfs;
static int fail_at;
static int sticky;
static int operations;
static int fired;

static int should_fail(void) {
    int count = __atomic_add_fetch(&operations, 1, __ATOMIC_SEQ_CST);
    int target = __atomic_load_n(&fail_at, __ATOMIC_SEQ_CST);
    if (target == 0) return 0;
    if (count == target || (sticky && count > target)) {
        __atomic_store_n(&fired, 1, __ATOMIC_SEQ_CST);
        return 1;
    }
    return 0;
}

static sqlite3_file *real(sqlite3_file *file) { return ((FaultFile *)file)->real; }

static int f_close(sqlite3_file *file) {
    sqlite3_file *r = real(file);
    int rc = r->pMethods ? r->pMethods->xClose(r) : SQLITE_OK;
    return rc;
}
static int f_read(sqlite3_file *file, void *buffer, int amount, sqlite3_int64 offset) {
    return real(file)->pMethods->xRead(real(file), buffer, amount, offset);
}
static int f_write(sqlite3_file *file, const void *buffer, int amount, sqlite3_int64 offset) {
    if (should_fail()) return SQLITE_IOERR_WRITE;
    return real(file)->pMethods->xWrite(real(file), buffer, amount, offset);
}
static int f_truncate(sqlite3_file *file, sqlite3_int64 size) {
    if (should_fail()) return SQLITE_IOERR_TRUNCATE;
    return real(file)->pMethods->xTruncate(real(file), size);
}
static int f_sync(sqlite3_file *file, int flags) {
    if (should_fail()) return SQLITE_IOERR_FSYNC;
    return real(file)->pMethods->xSync(real(file), flags);
}
static int f_file_size(sqlite3_file *file, sqlite3_int64 *size) {
    return real(file)->pMethods->xFileSize(real(file), size);
}
static int f_lock(sqlite3_file *file, int lock) { return real(file)->pMethods->xLock(real(file), lock); }
static int f_unlock(sqlite3_file *file, int lock) { return real(file)->pMethods->xUnlock(real(file), lock); }
static int f_check_reserved(sqlite3_file *file, int *out) {
    return real(file)->pMethods->xCheckReservedLock(real(file), out);
}
static int f_file_control(sqlite3_file *file, int op, void *arg) {
    return real(file)->pMethods->xFileControl(real(file), op, arg);
}
static int f_sector_size(sqlite3_file *file) { return real(file)->pMethods->xSectorSize(real(file)); }
static int f_device_characteristics(sqlite3_file *file) {
    return real(file)->pMethods->xDeviceCharacteristics(real(file));
}
static int f_shm_map(sqlite3_file *file, int region, int size, int extend, void volatile **out) {
    return real(file)->pMethods->xShmMap(real(file), region, size, extend, out);
}
static int f_shm_lock(sqlite3_file *file, int offset, int n, int flags) {
    return real(file)->pMethods->xShmLock(real(file), offset, n, flags);
}
static void f_shm_barrier(sqlite3_file *file) { real(file)->pMethods->xShmBarrier(real(file)); }
static int f_shm_unmap(sqlite3_file *file, int delete_flag) {
    return real(file)->pMethods->xShmUnmap(real(file), delete_flag);
}
static int f_fetch(sqlite3_file *file, sqlite3_int64 offset, int amount, void **out) {
    return real(file)->pMethods->xFetch(real(file), offset, amount, out);
}
static int f_unfetch(sqlite3_file *file, sqlite3_int64 offset, void *pointer) {
    return real(file)->pMethods->xUnfetch(real(file), offset, pointer);
}

static const sqlite3_io_methods fault_io_methods = {
    3, f_close, f_read, f_write, f_truncate, f_sync, f_file_size, f_lock, f_unlock, f_check_reserved,
    f_file_control, f_sector_size, f_device_characteristics, f_shm_map, f_shm_lock, f_shm_barrier, f_shm_unmap,
    f_fetch, f_unfetch,
};

static int v_open(sqlite3_vfs *vfs, const char *name, sqlite3_file *file, int flags, int *out_flags) {
    FaultFile *wrapper = (FaultFile *)file;
    wrapper->real = (sqlite3_file *)&wrapper[1];
    memset(wrapper->real, 0, base_vfs->szOsFile);
    int rc = base_vfs->xOpen(base_vfs, name, wrapper->real, flags, out_flags);
    wrapper->base.pMethods = wrapper->real->pMethods ? &fault_io_methods : NULL;
    return rc;
}
static int v_delete(sqlite3_vfs *vfs, const char *name, int sync_dir) {
    return base_vfs->xDelete(base_vfs, name, sync_dir);
}
static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out) {
    return base_vfs->xAccess(base_vfs, name, flags, out);
}
static int v_full_pathname(sqlite3_vfs *vfs, const char *name, int size, char *out) {
    return base_vfs->xFullPathname(base_vfs, name, size, out);
}
static void *v_dl_open(sqlite3_vfs *vfs, const char *name) { return base_vfs->xDlOpen(base_vfs, name); }
static void v_dl_error(sqlite3_vfs *vfs, int size, char *out) { base_vfs->xDlError(base_vfs, size, out); }
static void (*v_dl_sym(sqlite3_vfs *vfs, void *handle, const char *symbol))(void) {
    return base_vfs->xDlSym(base_vfs, handle, symbol);
}
static void v_dl_close(sqlite3_vfs *vfs, void *handle) { base_vfs->xDlClose(base_vfs, handle); }
static int v_randomness(sqlite3_vfs *vfs, int size, char *out) { return base_vfs->xRandomness(base_vfs, size, out); }
static int v_sleep(sqlite3_vfs *vfs, int micros) { return base_vfs->xSleep(base_vfs, micros); }
static int v_current_time(sqlite3_vfs *vfs, double *out) { return base_vfs->xCurrentTime(base_vfs, out); }
static int v_last_error(sqlite3_vfs *vfs, int size, char *out) { return base_vfs->xGetLastError(base_vfs, size, out); }
static int v_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out) {
    return base_vfs->xCurrentTimeInt64(base_vfs, out);
}

int yongai_fault_vfs_register(void) {
    static int registered = 0;
    if (__atomic_exchange_n(&registered, 1, __ATOMIC_SEQ_CST)) return SQLITE_OK;
    base_vfs = sqlite3_vfs_find(NULL);
    if (base_vfs == NULL) return SQLITE_ERROR;
    memset(&fault_vfs, 0, sizeof(fault_vfs));
    fault_vfs.iVersion = 2;
    fault_vfs.szOsFile = (int)sizeof(FaultFile) + base_vfs->szOsFile;
    fault_vfs.mxPathname = base_vfs->mxPathname;
    fault_vfs.zName = "yongai-fault";
    fault_vfs.xOpen = v_open;
    fault_vfs.xDelete = v_delete;
    fault_vfs.xAccess = v_access;
    fault_vfs.xFullPathname = v_full_pathname;
    fault_vfs.xDlOpen = v_dl_open;
    fault_vfs.xDlError = v_dl_error;
    fault_vfs.xDlSym = v_dl_sym;
    fault_vfs.xDlClose = v_dl_close;
    fault_vfs.xRandomness = v_randomness;
    fault_vfs.xSleep = v_sleep;
    fault_vfs.xCurrentTime = v_current_time;
    fault_vfs.xGetLastError = v_last_error;
    fault_vfs.xCurrentTimeInt64 = v_current_time_int64;
    return sqlite3_vfs_register(&fault_vfs, 0);
}

void yongai_fault_vfs_arm(int target, int is_sticky) {
    __atomic_store_n(&fail_at, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&operations, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fired, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&sticky, is_sticky, __ATOMIC_SEQ_CST);
    __atomic_store_n(&fail_at, target, __ATOMIC_SEQ_CST);
}

int yongai_fault_vfs_operations(void) { return __atomic_load_n(&operations, __ATOMIC_SEQ_CST); }

int yongai_fault_vfs_fired(void) { return __atomic_load_n(&fired, __ATOMIC_SEQ_CST); }

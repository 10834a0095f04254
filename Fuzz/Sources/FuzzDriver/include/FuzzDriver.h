#ifndef FUZZ_DRIVER_H
#define FUZZ_DRIVER_H

/// Runs libFuzzer's driver on this binary's LLVMFuzzerTestOneInput. SwiftPM links an
/// executable's `main` to `<module>_main`, so each fuzz target's `<module>_main` calls this
/// instead of relying on libFuzzer's own `main`.
int yongai_fuzz_main(int argc, char **argv);

#endif

import FuzzDriver

/// The entry SwiftPM links as `main`: libFuzzer's driver.
@_cdecl("fuzz_session_main")
func fuzzSessionMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    yongai_fuzz_main(argc, argv)
}

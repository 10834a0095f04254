import FuzzDriver

/// The entry SwiftPM links as `main`: libFuzzer's driver.
@_cdecl("fuzz_decode_main")
func fuzzDecodeMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    yongai_fuzz_main(argc, argv)
}

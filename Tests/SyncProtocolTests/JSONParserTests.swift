import SyncProtocol
import Testing

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONParser.parse(
            #"{"a":null,"b":true,"c":false,"d":-12,"e":1.5,"f":2e3,"g":"x\"y\\z\n\u00e9\ud83d\ude00","h":[1,[2],{}],"i":{}}"#
        )
        #expect(value["a"] == .null)
        #expect(value["b"] == .bool(true))
        #expect(value["d"] == .integer(-12))
        #expect(value["e"] == .real(1.5))
        #expect(value["f"] == .real(2000))
        #expect(value["g"] == .string("x\"y\\z\né😀"))
        #expect(value["h"] == .array([.integer(1), .array([.integer(2)]), .object([])]))
    }

    @Test(arguments: [
        "", "{", "}", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{'a':1}", "01", "1.", ".5", "-", "+1", "1e", "tru", "nul",
        "\"unterminated", "\"bad \\x escape\"", "\"\\ud800\"", "[1] [2]", "{\"a\":1,\"a\":2}", "\"tab\there\"",
        "NaN", "Infinity", "1e999",
        String(repeating: "[", count: 40) + String(repeating: "]", count: 40),
    ])
    func refusesWhatRFC8259Refuses(text: String) {
        #expect(throws: JSONParser.Failure.self) { try JSONParser.parse(text) }
    }

    @Test func integersAndRealsRoundTripThroughTheWriter() throws {
        let values: [JSONValue] = [
            .integer(0), .integer(-1), .integer(Int64.max), .integer(Int64.min), .real(0), .real(-0.5), .real(1e300),
            .real(3), .real(1_764_000_000_000.25), .string("\u{1}\u{1f}\"\\/é"), .array([]), .object([]),
        ]
        for value in values {
            let bytes = JSONWriter.encode(value)
            #expect(try JSONParser.parse(bytes) == value, "\(String(decoding: bytes, as: UTF8.self))")
        }
        #expect(String(decoding: JSONWriter.encode(.real(3)), as: UTF8.self) == "3.0")
    }

    @Test func anIntegerTooLargeForInt64IsAReal() throws {
        #expect(try JSONParser.parse("92233720368547758080") == .real(92_233_720_368_547_758_080))
    }

    /// Numbers read by the fast digit paths are exactly what the standard library's parse
    /// gives, for every kind of number text a writer sends.
    @Test func numbersParseExactlyAsTheStandardLibraryDoes() throws {
        var rng = SystemRandomNumberGenerator()
        var texts = [
            "0", "-0", "7", "-7", "999999999999999999", "-999999999999999999", "1000000000000000000",
            "9223372036854775807", "-9223372036854775808", "0.0", "-0.0", "0.1", "0.05", "121.55", "29.87",
            "123456789012345.6", "1234567890123456.7", "0.000000000000000000001", "0.0000000000000000000001",
            "1.7976931348623157e308", "5e-324", "2.5E+3", "-1.25e-2", "3.0",
        ]
        for _ in 0..<2_000 {
            texts.append(String(Double.random(in: -1_000_000...1_000_000, using: &rng)))
            texts.append(String(Double(Int.random(in: -100_000_000...100_000_000, using: &rng)) / 10_000))
            texts.append(String(Int64.random(in: Int64.min...Int64.max, using: &rng)))
            texts.append(String(Double(bitPattern: UInt64.random(in: 0...UInt64.max, using: &rng))))
        }
        for text in texts where !text.contains("n") && !text.contains("i") {
            let parsed = try JSONParser.parse(text)
            if let integer = Int64(text) {
                #expect(parsed == .integer(integer), "\(text)")
            } else if case .real(let real) = parsed {
                #expect(real.bitPattern == Double(text)!.bitPattern, "\(text)")
            } else {
                Issue.record("\(text) read as \(parsed)")
            }
        }
    }
}

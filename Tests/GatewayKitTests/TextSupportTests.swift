import Foundation
import GatewayKit
import Testing
import TextSupport

/// The helpers that replaced full Foundation's (String(format:), NSString paths,
/// addingPercentEncoding, DateFormatter), checked against Foundation itself where
/// the test can still reach it.
@Suite struct TextSupportTests {
    @Test(arguments: [0.0, 0.04, 0.05, 0.95, 1.25, 2.5, -0.04, -0.5, -1.26, 12.345, 1234.5678, 0.0005, 99.99, 1e9 + 0.25])
    func decimalsMatchPrintf(value: Double) {
        for digits in [0, 1, 3] {
            let printf = String(format: "%.\(digits)f", value)
            let ours = DecimalText.fixed(value, digits: digits)
            // printf rounds half to even on the binary value; ours rounds half away from zero,
            // so they may differ only on an exact tie such as 2.5 with no digits.
            if printf != ours {
                #expect(abs(Double(printf)! - Double(ours)!) <= pow(10, Double(-digits)) + 1e-12, "\(value) \(digits)")
            }
        }
        #expect(DecimalText.fixed(1.25, digits: 1) == "1.3")
        #expect(DecimalText.fixed(-0.04, digits: 1) == "0.0")
        #expect(DecimalText.fixed(0.5, digits: 3) == "0.500")
    }

    @Test func percentEncodingMatchesFoundation() {
        for text in ["2026-11-01T00:00:00Z", "a b/c?d#e", "ünï", "id-1_2.3~4", "p@ss:w%rd"] {
            #expect(PercentEncoding.encode(text, allowing: PercentEncoding.alphanumerics)
                    == text.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn:
                        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")))
            var segment = CharacterSet.urlPathAllowed
            segment.remove(charactersIn: "/")
            #expect(PercentEncoding.encode(text, allowing: PercentEncoding.pathSegment)
                    == text.addingPercentEncoding(withAllowedCharacters: segment))
            #expect(PercentEncoding.decode(PercentEncoding.encode(text, allowing: [])) == text)
        }
        #expect(PercentEncoding.decode("p%40ss%3Aw%25rd") == "p@ss:w%rd")
        #expect(PercentEncoding.decode("bad%2") == nil)
        #expect(PercentEncoding.decode("bad%zz") == nil)
    }

    @Test func pathsMatchNSString() {
        for path in ["/a/b/c.json", "c.json", "/c.json", "a/b/", "/", "./x", "../y/z"] {
            #expect(PathText.directory(of: path) == ((path as NSString).deletingLastPathComponent).replacingEmpty(with: "."),
                    "\(path)")
        }
    }

    @Test func trimming() {
        #expect("  a b \t\n".trimmingWhitespace() == "a b")
        #expect(" \n ".trimmingWhitespace() == "")
        #expect("[::1]".trimming("[]") == "::1")
        #expect("Connection REFUSED".containsIgnoringCase("refused"))
        #expect("ab".padded(to: 4) == "ab  ")
        #expect(HexText.bytes([0, 15, 255]) == "000fff")
    }

    @Test func httpDatesAsFoundationReadThem() throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        for text in ["Tue, 08 Dec 2026 00:12:00 GMT", "Sun, 06 Nov 1994 08:49:37 GMT", "Thu, 29 Feb 2024 23:59:59 GMT"] {
            #expect(GatewayClientTesting.httpDate(text) == formatter.date(from: text), "\(text)")
        }
        for bad in ["", "Tue, 08 Dec 2026", "Tue, 32 Dec 2026 00:00:00 GMT", "Tue, 08 Foo 2026 00:00:00 GMT",
                    "Tue, 08 Dec 2026 24:00:00 GMT", "Tuesday, 08-Dec-26 00:00:00 GMT"] {
            #expect(GatewayClientTesting.httpDate(bad) == nil, "\(bad)")
        }
    }
}

private extension String {
    func replacingEmpty(with other: String) -> String { isEmpty ? other : self }
}

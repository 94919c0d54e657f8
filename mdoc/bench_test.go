package mdoc

import "testing"

// BenchmarkParseMSO reads the Annex D MobileSecurityObject in one pass;
// BenchmarkParseMSOReference is the reflective reader it replaced.
func BenchmarkParseMSO(b *testing.B) {
	mso := annexDHex(b, "mobile_security_object")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseMSO(mso); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseMSOReference(b *testing.B) {
	mso := annexDHex(b, "mobile_security_object")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := refParseMSO(mso); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDeviceResponse reads the Annex D DeviceResponse.
func BenchmarkParseDeviceResponse(b *testing.B) {
	resp := annexDHex(b, "device_response")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDeviceResponse(resp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseDeviceResponseNoCopy reads it without the private copy.
func BenchmarkParseDeviceResponseNoCopy(b *testing.B) {
	resp := annexDHex(b, "device_response")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseDeviceResponseNoCopy(resp); err != nil {
			b.Fatal(err)
		}
	}
}

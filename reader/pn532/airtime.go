package pn532

import (
	"fmt"
	"time"
)

// BitRate is a bit rate on the air in kbit/s: 106, 212 or 424 (fc/128,
// fc/64 and fc/32 with fc = 13.56 MHz, ISO/IEC 14443-2).
type BitRate int

// Bit rates of ISO/IEC 14443 the PN532 reaches with InPSL.
const (
	Rate106 BitRate = 106
	Rate212 BitRate = 212
	Rate424 BitRate = 424
)

// String implements fmt.Stringer.
func (b BitRate) String() string { return fmt.Sprintf("%d kbit/s", int(b)) }

// ParseBitRate parses "106", "212" or "424".
func ParseBitRate(s string) (BitRate, error) {
	switch s {
	case "106":
		return Rate106, nil
	case "212":
		return Rate212, nil
	case "424":
		return Rate424, nil
	}
	return 0, fmt.Errorf("pn532: bit rate %q: want 106, 212 or 424", s)
}

// pslCode is the BRit/BRti code of InPSL (PN532 User Manual clause 7.3.4).
func (b BitRate) pslCode() byte {
	switch b {
	case Rate212:
		return 0x01
	case Rate424:
		return 0x02
	}
	return 0x00
}

// bitsPerSecond is fc/128 for 106 kbit/s, doubled for each step.
func (b BitRate) bitsPerSecond() float64 {
	return 13.56e6 / 128 * float64(b) / 106
}

// fdt is the frame delay time between two frames, at least 1172/fc
// (ISO/IEC 14443-3 clause 6.2.1.1); the model counts it once per frame.
const fdt = 1172 * time.Second / 13_560_000

// Frame sizes of the model: the target's answers go in blocks of up to
// ModelFSD bytes, a conservative figure for the frame size a reader
// announces in RATS (ISO/IEC 14443-4 allows 16 to 256); commands go in
// blocks of the target's FSC, from its ATS (256 bytes for current phones).
const (
	ModelFSD = 64
	ModelFSC = 256
)

// AirBytes models the bytes on the air to carry payload bytes one way in
// ISO-DEP blocks of up to frameSize bytes (ISO/IEC 14443-4 clause 7): a
// PCB byte and a 2-byte CRC per block, and an R(ACK) block from the other
// side for every chained block.
func AirBytes(payload, frameSize int) int {
	blocks := airBlocks(payload, frameSize)
	return payload + 3*blocks + 3*(blocks-1)
}

func airBlocks(payload, frameSize int) int {
	per := max(frameSize-3, 1)
	return max((payload+per-1)/per, 1)
}

// AirTime models the time on the air to carry payload bytes one way at
// rate in blocks of up to frameSize bytes: 9 bits per byte (8 and odd
// parity), start and end of frame, and one frame delay time per frame.
// At 106 kbit/s a 20 KB portrait in 64-byte blocks takes about 1.9 s; at
// 424 kbit/s about 0.5 s.
func AirTime(payload, frameSize int, rate BitRate) time.Duration {
	blocks := airBlocks(payload, frameSize)
	frames := 2*blocks - 1
	bits := 9*AirBytes(payload, frameSize) + 2*frames
	return time.Duration(float64(bits)/rate.bitsPerSecond()*float64(time.Second)) + time.Duration(frames)*fdt
}

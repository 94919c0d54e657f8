package memlink

import (
	"slices"

	"github.com/idreader/idreader/ble"
)

// isData reports whether char is a Client2Server or Server2Client
// characteristic of either 18013-5 mode.
func isData(char ble.UUID) bool {
	for _, m := range []ble.Mode{ble.ModePeripheralServer, ble.ModeCentralClient} {
		cs := m.Characteristics()
		if char == cs.Client2Server || char == cs.Server2Client {
			return true
		}
	}
	return false
}

// DisconnectAfter drops the connection when the chunks on the data
// characteristics (Client2Server, Server2Client; both directions, leading
// bytes included) would exceed n bytes in total: the value that crosses the
// limit is not delivered.
func DisconnectAfter(n int) Fault {
	seen := 0
	return func(_ Direction, char ble.UUID, v []byte) ([]byte, Action) {
		if !isData(char) {
			return v, Deliver
		}
		seen += len(v)
		if seen > n {
			return nil, Disconnect
		}
		return v, Deliver
	}
}

// StallAfter silently drops every value on the data characteristics once
// they exceed n bytes in total (counted as in [DisconnectAfter]); the link
// stays up, so the receiver can only time out.
func StallAfter(n int) Fault {
	seen := 0
	return func(_ Direction, char ble.UUID, v []byte) ([]byte, Action) {
		if !isData(char) {
			return v, Deliver
		}
		seen += len(v)
		if seen > n {
			return nil, Drop
		}
		return v, Deliver
	}
}

// WrongIdent flips the last bit of every Ident read response, as a reader
// serving another session's Ident would.
func WrongIdent() Fault {
	ident := ble.ModeCentralClient.Characteristics().Ident
	return func(dir Direction, char ble.UUID, v []byte) ([]byte, Action) {
		if dir == ToClient && char == ident && len(v) > 0 {
			v = slices.Clone(v)
			v[len(v)-1] ^= 1
		}
		return v, Deliver
	}
}

// OversizeChunks pads the first data chunk of each direction with zero bytes
// to size bytes (leading byte included), which a real stack could never
// deliver once size exceeds MTU−3 or 512.
func OversizeChunks(size int) Fault {
	done := map[Direction]bool{}
	return func(dir Direction, char ble.UUID, v []byte) ([]byte, Action) {
		if !isData(char) || done[dir] || len(v) >= size {
			return v, Deliver
		}
		done[dir] = true
		return append(slices.Clone(v), make([]byte, size-len(v))...), Deliver
	}
}

// LeadByte replaces the leading byte of the first data chunk of each
// direction with b.
func LeadByte(b byte) Fault {
	done := map[Direction]bool{}
	return func(dir Direction, char ble.UUID, v []byte) ([]byte, Action) {
		if !isData(char) || done[dir] || len(v) == 0 {
			return v, Deliver
		}
		done[dir] = true
		v = slices.Clone(v)
		v[0] = b
		return v, Deliver
	}
}

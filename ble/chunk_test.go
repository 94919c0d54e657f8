package ble

import (
	"bytes"
	"errors"
	"testing"
)

func TestChunkSizes(t *testing.T) {
	for _, tt := range []struct{ mtu, size, data int }{
		{0, 20, 19}, {20, 20, 19}, {23, 20, 19}, {185, 182, 181}, {247, 244, 243},
		{515, 512, 511}, {517, 512, 511}, {1000, 512, 511},
	} {
		if got := MaxChunkSize(tt.mtu); got != tt.size {
			t.Errorf("MaxChunkSize(%d) = %d, want %d", tt.mtu, got, tt.size)
		}
		if got := MaxChunkData(tt.mtu); got != tt.data {
			t.Errorf("MaxChunkData(%d) = %d, want %d", tt.mtu, got, tt.data)
		}
	}
	for _, tt := range []struct{ n, mtu, want int }{
		{0, 23, 1}, {1, 23, 1}, {19, 23, 1}, {20, 23, 2}, {30 * 1024, 23, 1617},
		{30 * 1024, 185, 170}, {30 * 1024, 517, 61},
	} {
		if got := NumChunks(tt.n, tt.mtu); got != tt.want {
			t.Errorf("NumChunks(%d, %d) = %d, want %d", tt.n, tt.mtu, got, tt.want)
		}
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

func TestSplitReassemble(t *testing.T) {
	for _, mtu := range []int{23, 24, 185, 517} {
		for _, n := range []int{0, 1, 18, 19, 20, 38, 511, 512, 4096, 65536} {
			msg := pattern(n)
			chunks := SplitMessage(msg, mtu)
			if len(chunks) != NumChunks(n, mtu) {
				t.Fatalf("mtu %d n %d: %d chunks, NumChunks says %d", mtu, n, len(chunks), NumChunks(n, mtu))
			}
			r := NewReassembler(n)
			for i, c := range chunks {
				if len(c) > MaxChunkSize(mtu) || len(c) == 0 {
					t.Fatalf("mtu %d: chunk %d has %d bytes", mtu, i, len(c))
				}
				last := i == len(chunks)-1
				if (c[0] == 0x00) != last {
					t.Fatalf("mtu %d n %d: chunk %d lead %#x", mtu, n, i, c[0])
				}
				got, done, err := r.Add(c)
				if err != nil || done != last {
					t.Fatalf("mtu %d n %d chunk %d: done %v err %v", mtu, n, i, done, err)
				}
				if last && !bytes.Equal(got, msg) {
					t.Fatalf("mtu %d n %d: message differs", mtu, n)
				}
			}
		}
	}
}

func TestReassemblerShortChunks(t *testing.T) {
	r := NewReassembler(10)
	for _, c := range [][]byte{{1}, {1, 'a'}, {1}, {1, 'b', 'c'}} {
		if _, done, err := r.Add(c); done || err != nil {
			t.Fatalf("Add(%x): done %v err %v", c, done, err)
		}
	}
	if r.Buffered() != 3 || !r.InProgress() {
		t.Fatalf("buffered %d", r.Buffered())
	}
	msg, done, err := r.Add([]byte{0})
	if !done || err != nil || string(msg) != "abc" {
		t.Fatalf("got %q %v %v", msg, done, err)
	}
	// An empty message is one 0x00 chunk.
	msg, done, err = r.Add([]byte{0})
	if !done || err != nil || msg == nil || len(msg) != 0 {
		t.Fatalf("empty message: %v %v %v", msg, done, err)
	}
}

func TestReassemblerErrors(t *testing.T) {
	tests := []struct {
		name   string
		limit  int
		chunks [][]byte
		want   error
	}{
		{"empty chunk", 0, [][]byte{{}}, ErrProtocol},
		{"unknown lead", 0, [][]byte{{0x02, 1, 2}}, ErrProtocol},
		{"garbage lead after start", 0, [][]byte{{1, 1}, {0xff, 2}}, ErrProtocol},
		{"oversize chunk", 0, [][]byte{make([]byte, 513)}, ErrProtocol},
		{"too large single", 3, [][]byte{{0, 1, 2, 3, 4}}, ErrMessageTooLarge},
		{"too large over chunks", 4, [][]byte{{1, 1, 2}, {1, 3, 4}, {0, 5}}, ErrMessageTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := NewReassembler(tt.limit)
			var err error
			for _, c := range tt.chunks {
				if _, _, err = r.Add(c); err != nil {
					break
				}
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if r.InProgress() || r.Buffered() != 0 {
				t.Fatal("partial message kept after error")
			}
			// The reassembler is usable again.
			if msg, done, err := r.Add([]byte{0, 9}); !done || err != nil || !bytes.Equal(msg, []byte{9}) {
				t.Fatalf("after error: %v %v %v", msg, done, err)
			}
		})
	}
	r := &Reassembler{MaxChunk: 20}
	if _, _, err := r.Add(make([]byte, 21)); !errors.Is(err, ErrProtocol) {
		t.Fatalf("MaxChunk not enforced: %v", err)
	}
}

// FuzzReassembler feeds arbitrary bytes, cut into chunks by the first byte of
// each record, and checks that the reassembler never panics, never exceeds its
// limit, and that split/reassemble round-trips.
func FuzzReassembler(f *testing.F) {
	for _, c := range SplitMessage(pattern(100), 23) {
		f.Add(c, uint16(64))
	}
	f.Add([]byte{1, 1, 1, 0}, uint16(0))
	f.Add([]byte{0x02}, uint16(10))
	f.Fuzz(func(t *testing.T, data []byte, limit uint16) {
		orig := bytes.Clone(data)
		r := NewReassembler(int(limit))
		// Cut data into chunks: a length byte, then that many bytes.
		for len(data) > 0 {
			n := min(int(data[0]), len(data)-1)
			c := data[1 : 1+n]
			data = data[1+n:]
			msg, done, err := r.Add(c)
			if err != nil {
				if r.InProgress() {
					t.Fatal("partial message kept after error")
				}
				continue
			}
			if limit > 0 && (len(msg) > int(limit) || r.Buffered() > int(limit)) {
				t.Fatalf("limit %d exceeded: %d / %d", limit, len(msg), r.Buffered())
			}
			if done != (c[0] == 0) {
				t.Fatalf("done = %v for lead %#x", done, c[0])
			}
		}
		// Round trip of the raw input as a message.
		for _, mtu := range []int{23, 185} {
			r := NewReassembler(0)
			var got []byte
			for _, c := range SplitMessage(orig, mtu) {
				m, done, err := r.Add(c)
				if err != nil {
					t.Fatal(err)
				}
				if done {
					got = m
				}
			}
			if !bytes.Equal(got, orig) {
				t.Fatalf("round trip at mtu %d differs", mtu)
			}
		}
	})
}

//go:build cgo

package pcsc_test

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/vpcd"
)

// Test instructions of testCard (CLA 80).
const (
	insEcho   = 0x10 // returns the command data
	insLarge  = 0x12 // returns P1P2 pattern bytes
	insSleep  = 0x14 // answers 9000 after P1 * 10 ms
	insVanish = 0xEE // leaves the field without answering
)

// mdocAID is the ISO/IEC 18013-5 clause 8.3.3.1.2 mdoc application AID.
var mdocAID = []byte{0xA0, 0x00, 0x00, 0x02, 0x48, 0x04, 0x00}

// testCard is a small select/echo card behind vpcd.
type testCard struct {
	powerOn, powerOff, reset atomic.Int32
	selected                 bool
}

func (c *testCard) PowerOn()  { c.powerOn.Add(1) }
func (c *testCard) PowerOff() { c.powerOff.Add(1); c.selected = false }
func (c *testCard) Reset()    { c.reset.Add(1); c.selected = false }

// body returns the command data of a case 3/4 APDU, short or extended.
func body(apdu []byte) []byte {
	if len(apdu) <= 5 {
		return nil
	}
	if apdu[4] == 0 && len(apdu) >= 7 {
		n := int(apdu[5])<<8 | int(apdu[6])
		if len(apdu) >= 7+n {
			return apdu[7 : 7+n]
		}
		return nil
	}
	n := int(apdu[4])
	if len(apdu) >= 5+n {
		return apdu[5 : 5+n]
	}
	return nil
}

func (c *testCard) Transmit(apdu []byte) []byte {
	switch {
	case apdu[0] == 0x00 && apdu[1] == 0xA4 && apdu[2] == 0x04:
		if bytes.Equal(body(apdu), mdocAID) {
			c.selected = true
			return []byte{0x90, 0x00}
		}
		return []byte{0x6A, 0x82}
	case apdu[0] != 0x80:
		return []byte{0x6E, 0x00}
	case apdu[1] == insEcho:
		return append(append([]byte{}, body(apdu)...), 0x90, 0x00)
	case apdu[1] == insLarge:
		n := int(apdu[2])<<8 | int(apdu[3])
		out := make([]byte, n+2)
		for i := range n {
			out[i] = byte(i * 7)
		}
		out[n], out[n+1] = 0x90, 0x00
		return out
	case apdu[1] == insSleep:
		time.Sleep(time.Duration(apdu[2]) * 10 * time.Millisecond)
		return []byte{0x90, 0x00}
	case apdu[1] == insVanish:
		return nil
	}
	return []byte{0x6D, 0x00}
}

// tap puts card into the vpcd slot at addr (one tap, no redial) and returns
// a function that takes it out and waits until it is gone.
func tap(t testing.TB, addr string, card vpcd.Card) (leave func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := vpcd.Tap(ctx, addr, card); err != nil && ctx.Err() == nil {
			t.Logf("tap on %s ended: %v", addr, err)
		}
	}()
	var once sync.Once
	leave = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(leave)
	return leave
}

// serve keeps card in the slot at addr, redialling across pcscd restarts,
// until the test ends.
func serve(t testing.TB, addr string, card vpcd.Card) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := vpcd.Serve(ctx, addr, card); err != nil {
			t.Errorf("vpcd.Serve: %v", err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

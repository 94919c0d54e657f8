package terminal_test

import (
	"errors"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/holder/wallet"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/reader"
	"github.com/idreader/idreader/reader/readertest"
	"github.com/idreader/idreader/terminal"
)

// TestRemovalAtEveryStep is the removal campaign: for each handover mode
// (static, negotiated, Apple) and both retrieval paths (NFC data transfer,
// BLE after NFC engagement), the phone leaves the field after APDU k, for
// every k of an honest tap. While the exchange still needs the NFC link the
// result is `removed`; once it no longer does (BLE retrieval, or only the
// session termination is left) the tap goes on and is accepted. Afterwards an honest tap is accepted and no goroutine
// is left behind.
func TestRemovalAtEveryStep(t *testing.T) {
	f := getFixture(t)
	type path struct {
		name       string
		transports []terminal.Transport
		offerBLE   bool
	}
	paths := []path{
		{name: "nfc", transports: []terminal.Transport{terminal.TransportNFC}},
		{name: "ble", transports: []terminal.Transport{terminal.TransportBLECentralClient}, offerBLE: true},
	}
	hands := []wallet.HandoverMode{wallet.HandoverStatic, wallet.HandoverNegotiated, wallet.HandoverApple}
	runtime.GC()
	base := runtime.NumGoroutine()
	cases := 0
	for _, hand := range hands {
		for _, p := range paths {
			t.Run(fmt.Sprintf("%s/%s", hand, p.name), func(t *testing.T) {
				tcfg := f.config(t)
				tcfg.Transports = p.transports
				wcfg := wallet.Config{Credentials: []*credential.Credential{f.mdl}, Handover: hand, OfferBLE: p.offerBLE}
				var counter *readertest.Cut
				honest := run{wallet: wcfg, terminal: tcfg, noBLE: !p.offerBLE, wrap: func(tr nfc.Transceiver) nfc.Transceiver {
					counter = readertest.NewCut(tr, -1)
					return counter
				}}.do(t)
				if honest.err != nil || !honest.out.Result.Accepted() {
					t.Fatalf("honest tap: %v", honest.err)
				}
				total := counter.Sent()
				removed := 0
				for k := range total {
					r := run{wallet: wcfg, terminal: tcfg, noBLE: !p.offerBLE, wrap: func(tr nfc.Transceiver) nfc.Transceiver {
						return readertest.NewCut(tr, k)
					}}.do(t)
					cases++
					switch {
					case r.err == nil && r.out.Result.Accepted() && r.out.Transport != terminal.TransportNFC:
						// The NFC part was over: BLE carried the rest.
					case r.err == nil && r.out.Result.Accepted() && k == total-1:
						// Only the session termination (status 20) was
						// lost: the response was read and verified.
					case errors.Is(r.err, reader.ErrRemoved) && terminal.ErrorCode(r.err) == terminal.CodeRemoved:
						removed++
					default:
						t.Errorf("cut after APDU %d of %d: code %q, err %v", k, total, terminal.ErrorCode(r.err), r.err)
					}
				}
				if removed == 0 {
					t.Errorf("no cut gave `removed` (%d APDUs)", total)
				}
				t.Logf("%d APDUs in an honest tap; %d cuts gave removed, %d were accepted", total, removed, total-removed)
				if after := (run{wallet: wcfg, terminal: tcfg, noBLE: !p.offerBLE}).do(t); after.err != nil || !after.out.Result.Accepted() {
					t.Errorf("next tap: %v", after.err)
				}
			})
		}
	}
	var n int
	for range 100 {
		runtime.GC()
		if n = runtime.NumGoroutine(); n <= base {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n > base {
		buf := make([]byte, 1<<16)
		t.Errorf("%d goroutines after %d cut taps, %d before:\n%s", n, cases, base, buf[:runtime.Stack(buf, true)])
	}
	t.Logf("%d cut taps", cases)
}

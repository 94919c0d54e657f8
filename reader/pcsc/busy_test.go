//go:build cgo

package pcsc_test

import (
	"context"
	"testing"
	"time"

	"github.com/ebfe/scard"

	"github.com/idreader/idreader/internal/rig"
	"github.com/idreader/idreader/reader/pcsc"
)

// TestCardHeldByAnotherConnection: a phone whose card another connection
// still holds exclusively when it arrives (in the soak: the previous tap's
// connection, whose release outlasted Close) is read once that connection
// lets go, not skipped until it leaves the field.
func TestCardHeldByAnotherConnection(t *testing.T) {
	info := rig.Require(t)
	name := info.Readers[0]
	r := open(t, pcsc.Options{}, name)
	tap(t, info.VPCD[0], &testCard{})

	// Another client takes the card exclusively as soon as pcscd sees it.
	other, err := scard.EstablishContext()
	if err != nil {
		t.Fatal(err)
	}
	defer other.Release()
	states := []scard.ReaderState{{Reader: name, CurrentState: scard.StateUnaware}}
	deadline := time.Now().Add(5 * time.Second)
	for states[0].EventState&scard.StatePresent == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the card never showed up")
		}
		states[0].CurrentState = states[0].EventState &^ scard.StateChanged
		if err := other.GetStatusChange(states, 500*time.Millisecond); err != nil && err != scard.ErrTimeout {
			t.Fatal(err)
		}
	}
	held, err := other.Connect(name, scard.ShareExclusive, scard.ProtocolAny)
	if err != nil {
		t.Fatalf("taking the card: %v", err)
	}
	release := time.AfterFunc(400*time.Millisecond, func() { held.Disconnect(scard.LeaveCard) })
	defer release.Stop()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	tg, err := r.Wait(ctx)
	if err != nil {
		t.Fatalf("Wait while another connection held the card for 400 ms: %v", err)
	}
	defer tg.Close()
	t.Logf("served %v after Wait began (the other connection let go after 400 ms)", time.Since(start).Round(time.Millisecond))
	if rsp := transmit(t, tg, selectMdoc); len(rsp) != 2 || rsp[0] != 0x90 {
		t.Fatalf("SELECT answered % X", rsp)
	}
}

package terminal

import (
	"context"
	"crypto/ecdh"
	"testing"
	"time"

	"github.com/idreader/idreader/internal/testvectors"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/session"
)

// The spare EReaderKey made during a TNEP wait is the one the session
// takes for a wallet on P-256, once; the wait still lasts at least T_wait.
func TestSpareKeyTakenOnce(t *testing.T) {
	de, err := mdoc.ParseDeviceEngagement(testvectors.AnnexD(t, "device_engagement_nfc"))
	if err != nil {
		t.Fatal(err)
	}
	var slept time.Duration
	tp, err := newTap(Config{Request: DefaultRequestProfile(), Sleep: func(_ context.Context, d time.Duration) error {
		slept = d
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := tp.sleepWorking(context.Background(), time.Second); err != nil {
		t.Fatal(err)
	}
	if spent := time.Since(start); slept+spent < time.Second-time.Millisecond || slept > time.Second {
		t.Errorf("made the key in %v and then slept %v of a 1 s wait", spent, slept)
	}
	spare := tp.spareKey
	if spare == nil || spare.Curve() != ecdh.P256() {
		t.Fatalf("spare key %v", spare)
	}
	if tp.sessHandover, err = session.NFCHandover(testvectors.AnnexD(t, "handover_select_message"), testvectors.AnnexD(t, "handover_request_message")); err != nil {
		t.Fatal(err)
	}
	tp.de = de
	sess, err := tp.newSession()
	if err != nil {
		t.Fatal(err)
	}
	if !sess.PrivateKey().Equal(spare) || tp.spareKey != nil {
		t.Error("the session did not take the spare key, or it is still held")
	}
	again, err := tp.newSession()
	if err != nil {
		t.Fatal(err)
	}
	if again.PrivateKey().Equal(spare) {
		t.Error("the spare key was used twice")
	}
}

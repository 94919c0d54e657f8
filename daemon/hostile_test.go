package daemon_test

import (
	"bytes"
	"runtime"
	"slices"
	"testing"

	"github.com/idreader/idreader/daemon"
	"github.com/idreader/idreader/holder/wallet"
)

// TestHostileWalletDaemonKeepsDeciding: the hostile wallet modes, each made
// inside a valid session, through the daemon: every tap is decided (reject,
// with the reason code the attack deserves), the log and audit lines hold no
// escape character and no 2 MB doc type, and an honest tap after each is
// accepted.
func TestHostileWalletDaemonKeepsDeciding(t *testing.T) {
	want := map[wallet.Hostile]string{
		wallet.HostileOversizedLength: "malformed",
		wallet.HostileWrongCounter:    "session",
		wallet.HostileReplay:          "session",
		wallet.HostileStatus10:        "wallet_status",
		wallet.HostileStatus11:        "wallet_status",
		wallet.HostileStatus20:        "wallet_status",
		wallet.HostileDeepCBOR:        "malformed",
		wallet.HostileHugeDocType:     "doctype_mismatch",
		wallet.HostileManyElements:    "value_digest",
	}
	h := start(t, "age-21", daemon.Timeouts{}, "counter")
	good := h.wallet(t, wallet.Config{}, h.w.Adult)
	var maxHeap uint64
	for _, mode := range wallet.HostileModes {
		w := h.wallet(t, wallet.Config{Faults: wallet.Faults{Hostile: mode}}, h.w.Adult)
		e := h.tap(t, "counter", w)
		if e.Decision != daemon.DecisionReject || !slices.Contains(e.Reasons, want[mode]) {
			t.Errorf("%s: %s %v, want reject with %s", mode, e.Decision, e.Reasons, want[mode])
		}
		if len(e.DocType) > 100 {
			t.Errorf("%s: event doc type of %d bytes", mode, len(e.DocType))
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		maxHeap = max(maxHeap, ms.HeapInuse)
		if e := h.tap(t, "counter", good); e.Decision != daemon.DecisionAccept {
			t.Fatalf("honest tap after %s: %s %v", mode, e.Decision, e.Reasons)
		}
	}
	for name, b := range map[string][]byte{"log": []byte(h.log.String()), "audit": []byte(h.audit.String())} {
		if bytes.Contains(b, []byte("\x1b")) || bytes.Contains(b, []byte(`\u001b`)) {
			t.Errorf("escape character in the %s", name)
		}
		if bytes.Contains(b, bytes.Repeat([]byte("A"), 1000)) {
			t.Errorf("the 2 MB doc type reached the %s", name)
		}
	}
	t.Logf("heap in use after the hostile taps: at most %.1f MB", float64(maxHeap)/(1<<20))
}

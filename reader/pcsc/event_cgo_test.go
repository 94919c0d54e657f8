//go:build cgo

package pcsc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ebfe/scard"
)

// The pure state machine's flags are scard's.
func TestStateFlagsMatchScard(t *testing.T) {
	for _, c := range []struct {
		ours  readerState
		scard scard.StateFlag
	}{
		{stateUnaware, scard.StateUnaware},
		{stateChanged, scard.StateChanged},
		{stateUnknown, scard.StateUnknown},
		{stateUnavailable, scard.StateUnavailable},
		{stateEmpty, scard.StateEmpty},
		{statePresent, scard.StatePresent},
		{stateMute, scard.StateMute},
	} {
		if uint32(c.ours) != uint32(c.scard) {
			t.Errorf("flag %#x, scard has %#x", c.ours, c.scard)
		}
	}
}

func TestConnectOutcome(t *testing.T) {
	for _, c := range []struct {
		err  error
		want connectResult
	}{
		{nil, connectOK},
		{scard.ErrNoSmartcard, connectStale},
		{fmt.Errorf("wrapped: %w", scard.ErrRemovedCard), connectStale},
		{scard.ErrUnpoweredCard, connectStale},
		{scard.ErrUnresponsiveCard, connectStale},
		{scard.ErrSharingViolation, connectBusy},
		{scard.ErrProtoMismatch, connectBusy},
		{scard.ErrNoService, connectNoService},
		{scard.ErrCommError, connectNoService},
		{scard.ErrInternalError, connectFailed},
		{errors.New("pcsc: other"), connectFailed},
	} {
		if got := connectOutcome(c.err); got != c.want {
			t.Errorf("connectOutcome(%v) = %d, want %d", c.err, got, c.want)
		}
	}
}

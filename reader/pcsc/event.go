package pcsc

// This file is the event-state machine of Wait and WaitRemoved, free of
// scard and cgo: the cgo side feeds it what SCardGetStatusChange and
// SCardConnect report and does what it answers.

// connectRetries bounds the connects to a card that failed because pcscd's
// view of it was stale or another connection held it; with
// connectRetryDelay between them, about 2 s (five presence polls).
const connectRetries = 20

// probeLimit bounds the probes for a card pcscd hides (see actProbe): with
// connectRetryDelay between them, about 2 s. A card that arrived within the
// presence poll in which the last one left is in the field from the start;
// once pcscd's next poll counted the removal, nothing is hidden any more.
const probeLimit = 20

// readerState is a reader's event state as SCardGetStatusChange reports it
// (PC/SC part 5, SCARD_READERSTATE.dwEventState): the SCARD_STATE_* flags in
// the lower 16 bits and, in pcsc-lite, the reader's event count in the upper
// 16 bits. The flag values are pcsc-lite's (pcsclite.h); a cgo test checks
// them against scard's.
type readerState uint32

// The SCARD_STATE_* flags the state machine reads.
const (
	stateUnaware     readerState = 0x0000
	stateChanged     readerState = 0x0002
	stateUnknown     readerState = 0x0004
	stateUnavailable readerState = 0x0008
	stateEmpty       readerState = 0x0010
	statePresent     readerState = 0x0020
	stateMute        readerState = 0x0200
)

// count is pcsc-lite's event count of the reader: it goes up by one on each
// insertion and each removal pcscd sees.
func (s readerState) count() int { return int(s >> 16) }

// connectResult is the outcome of SCardConnect, sorted into what the state
// machine tells apart.
type connectResult int

const (
	// connectOK: the card is connected.
	connectOK connectResult = iota
	// connectStale: SCARD_E_NO_SMARTCARD, SCARD_W_REMOVED_CARD,
	// SCARD_W_UNPOWERED_CARD or SCARD_W_UNRESPONSIVE_CARD. pcscd's view is
	// stale: the card it saw left before its next presence poll.
	connectStale
	// connectBusy: SCARD_E_SHARING_VIOLATION (another client holds the
	// card) or SCARD_E_PROTO_MISMATCH (neither T=0 nor T=1); retried
	// like connectStale before the card is skipped.
	connectBusy
	// connectNoService: pcscd went away; the context must be established
	// again.
	connectNoService
	// connectFailed: any other error; Wait returns it.
	connectFailed
)

// action is what Wait does next.
type action int

const (
	// actWait: call SCardGetStatusChange again with the stored state.
	actWait action = iota
	// actConnect: connect to the card in the field.
	actConnect
	// actRetry: wait connectRetryDelay, then watch again; the stored
	// state is SCARD_STATE_UNAWARE, so pcscd answers at once.
	actRetry
	// actServe: return the connected target.
	actServe
	// actGone: the reader vanished; Wait reports it and waits for it to
	// come back.
	actGone
	// actReconnect: pcscd went away; release the watch context and
	// establish a new one.
	actReconnect
	// actFail: return the connect error.
	actFail
	// actProbe: pcscd publishes an empty reader, but its event count is
	// odd: its presence thread never counted the last card's removal (the
	// empty state came from a client's power-down of a card that had just
	// left). A card that entered before that thread's next presence poll
	// is then hidden: the thread sees "present" before and after and
	// reports nothing until the new card leaves, and SCardConnect refuses
	// because the published state is empty. Probe for it: connect in
	// direct mode (which needs no card) and reconnect with a reset, which
	// powers up whatever card is in the field.
	actProbe
)

func (a action) String() string {
	switch a {
	case actWait:
		return "wait"
	case actConnect:
		return "connect"
	case actRetry:
		return "retry"
	case actServe:
		return "serve"
	case actGone:
		return "gone"
	case actReconnect:
		return "reconnect"
	case actFail:
		return "fail"
	case actProbe:
		return "probe"
	}
	return "action(?)"
}

// watchState is what Wait remembers between calls about one reader.
type watchState struct {
	state   readerState // last event state, without SCARD_STATE_CHANGED
	served  int         // event count of the card last returned (or skipped), -1 for none
	retries int         // failed connects to the card in the field
	probes  int         // failed probes for a hidden card (actProbe)
	probed  int         // event count whose probes gave up, -1 for none
}

// freshWatch is the state on a new context: a new pcscd knows nothing of the
// old one's cards and counts.
func freshWatch() watchState { return watchState{state: stateUnaware, served: -1, probed: -1} }

// onEvent is the step after SCardGetStatusChange reported ev for the reader.
func (w watchState) onEvent(ev readerState) (watchState, action) {
	w.state = ev &^ stateChanged
	switch {
	case ev&(stateUnknown|stateUnavailable) != 0:
		return w, actGone
	case ev&stateEmpty != 0:
		w.served, w.retries = -1, 0
		// pcsc-lite counts each insertion and each removal its presence
		// thread sees, from 0 with the reader empty: an odd count means
		// that thread still believes a card is present.
		if ev.count()%2 == 1 && w.probed != ev.count() {
			return w, actProbe
		}
		w.probes = 0
		return w, actWait
	case ev&statePresent == 0, ev&stateMute != 0, ev.count() == w.served:
		// No card, a card that does not answer, or the card already
		// served: nothing to do until the state changes.
		return w, actWait
	}
	return w, actConnect
}

// onConnect is the step after connecting to the card that onEvent reported
// with event count count.
func (w watchState) onConnect(count int, res connectResult) (watchState, action) {
	switch res {
	case connectOK:
		w.served, w.retries = count, 0
		return w, actServe
	case connectStale:
		// The card pcscd saw left before its next presence poll, and
		// another may already be in the field without pcscd seeing an
		// absence (vpcd accepts the next card in the same poll), so the
		// event count does not move. Connect powers the card up again:
		// retry shortly, asking pcscd afresh; give up on this card after
		// connectRetries failures.
		if w.retries++; w.retries >= connectRetries {
			w.served, w.retries = count, 0
			return w, actWait
		}
		w.state = stateUnaware
		return w, actRetry
	case connectBusy:
		// Another connection holds the card: often one about to let go
		// (a tool that just looked at it, or a connection pcsc-lite is
		// still tearing down). Retry shortly like a stale view; a card
		// still held after connectRetries tries (about 2 s) is another
		// application's, and is skipped until it leaves.
		if w.retries++; w.retries >= connectRetries {
			w.served, w.retries = count, 0
			return w, actWait
		}
		w.state = stateUnaware
		return w, actRetry
	case connectNoService:
		return freshWatch(), actReconnect
	}
	return w, actFail
}

// onProbe is the step after probing (actProbe) for a hidden card while the
// event count was count.
func (w watchState) onProbe(count int, res connectResult) (watchState, action) {
	switch res {
	case connectOK:
		// The reset made pcscd publish the card as present again, with
		// the same count: ask afresh next time, or the stored empty
		// state would hide the next change back to it.
		w.served, w.probes, w.state = count, 0, stateUnaware
		return w, actServe
	case connectNoService:
		return freshWatch(), actReconnect
	case connectBusy:
		// Another client holds the reader: nothing hidden to find.
		w.probed, w.probes = count, 0
		return w, actWait
	}
	// No card answered the reset (or it could not be read): look again
	// shortly, asking pcscd afresh, until probeLimit.
	if w.probes++; w.probes >= probeLimit {
		w.probed, w.probes = count, 0
		return w, actWait
	}
	w.state = stateUnaware
	return w, actRetry
}

// removal is what WaitRemoved does next.
type removal int

const (
	removalWait removal = iota // still there: watch again
	removalDone                // the card left (or a new one is in already)
	removalGone                // the reader vanished, its card with it
)

// onRemovalEvent is the step of WaitRemoved after SCardGetStatusChange
// reported ev, for the card served with event count count.
func (w watchState) onRemovalEvent(ev readerState, count int) (watchState, removal) {
	w.state = ev &^ stateChanged
	switch {
	case ev&(stateUnknown|stateUnavailable) != 0:
		return w, removalGone
	case ev&stateEmpty != 0:
		w.served = -1
		return w, removalDone
	case ev&statePresent != 0 && ev.count() != count:
		// Removed and back already: a new tap.
		return w, removalDone
	}
	return w, removalWait
}

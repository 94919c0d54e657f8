//go:build cgo

package pcsc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ebfe/scard"

	"github.com/idreader/idreader/reader"
)

// pnpReader is the pseudo-reader whose state changes when a reader is
// plugged in or out (PC/SC part 5; pcsc-lite keeps the reader count in the
// upper 16 bits of its event state).
const pnpReader = `\\?PnP?\Notification`

// Backoff while pcscd is unreachable.
const (
	backoffMin = 10 * time.Millisecond
	backoffMax = 500 * time.Millisecond
)

// pollFallback bounds a wait for a reader to appear, in case the PnP
// pseudo-reader reports nothing.
const pollFallback = time.Second

// connectRetryDelay is the pause before connecting again to a card whose
// connect failed because pcscd's view of it was stale.
const connectRetryDelay = 100 * time.Millisecond

// Provider lists and opens PC/SC readers.
type Provider struct {
	opts Options
}

// New returns a Provider. It does not contact pcscd; List and Open do.
func New(opts Options) (*Provider, error) {
	return &Provider{opts: opts}, nil
}

// List returns the names of the readers pcscd knows now (not the PnP
// pseudo-reader). An error wraps reader.ErrServiceUnavailable when pcscd is
// not running.
func (p *Provider) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, reader.CtxErr(ctx, "pcsc: listing readers")
	}
	c, err := scard.EstablishContext()
	if err != nil {
		return nil, mapErr("listing readers", err)
	}
	defer c.Release()
	names, err := listReaders(c)
	if err != nil {
		return nil, mapErr("listing readers", err)
	}
	return names, nil
}

func listReaders(c *scard.Context) ([]string, error) {
	names, err := c.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	return slices.DeleteFunc(names, func(n string) bool { return n == pnpReader }), nil
}

// Open opens the reader called name, or the first reader when name is
// empty. It waits, watching the PnP pseudo-reader, until the reader is
// plugged in or ctx ends; then the error wraps reader.ErrNoReader, or
// reader.ErrServiceUnavailable when pcscd was unreachable, and is a
// reader.UnavailableError naming the cause (pcscd not running; no reader of
// that name, with the ones present). With Options.FailFast it does not wait
// for either.
func (p *Provider) Open(ctx context.Context, name string) (reader.Reader, error) {
	what := "pcsc: opening the first reader"
	if name != "" {
		what = fmt.Sprintf("pcsc: opening reader %q", name)
	}
	closed, closeFn := context.WithCancel(context.Background())
	r := &pcscReader{opts: p.opts, ws: freshWatch(), closed: closed, closeFn: closeFn}
	var present []string // the readers pcscd listed last; nil before it answered
	for {
		if ctx.Err() != nil {
			r.Close()
			err := fmt.Errorf("%w: %w", reader.ErrNoReader, reader.CtxErr(ctx, what))
			if present != nil {
				err = errNoSuchReader(name, present, err)
			}
			return nil, err
		}
		if err := r.ensure(ctx); err != nil {
			r.Close()
			if reader.Unavailable(err) != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w: %w", what, reader.ErrNoReader, err)
		}
		names, err := listReaders(r.watch)
		if err != nil {
			if isServiceErr(err) {
				r.drop()
				continue
			}
			r.Close()
			return nil, fmt.Errorf("%s: %w", what, mapErr("listing readers", err))
		}
		found := ""
		if name == "" && len(names) > 0 {
			found = names[0]
		} else if slices.Contains(names, name) {
			found = name
		}
		if found != "" {
			r.name = found
			r.limits = p.opts.limitsFor(found)
			return r, nil
		}
		present = names
		if p.opts.FailFast {
			r.Close()
			return nil, errNoSuchReader(name, names, reader.ErrNoReader)
		}
		r.waitPnP(ctx)
	}
}

// pcscReader is one PC/SC reader. mu serialises the use of the watch
// context by Wait and Target.WaitRemoved.
type pcscReader struct {
	opts   Options
	name   string
	limits reader.Limits

	mu    sync.Mutex
	watch *scard.Context  // nil after the service was lost
	ws    watchState      // the reader's event state machine (event.go)
	pnp   scard.StateFlag // last event state of the PnP pseudo-reader
	gone  bool            // the reader vanished; wait for it to come back

	notify func(error) // SetAvailability's function, or nil
	down   bool        // the last report to notify was an error

	closed  context.Context
	closeFn context.CancelFunc

	// releasing is closed when the last closed target's card connection
	// is gone (target.Close may return before it is); nil when there is
	// none pending.
	relMu     sync.Mutex
	releasing chan struct{}
}

func (r *pcscReader) Name() string { return r.name }

// awaitRelease waits, before a connect, until the connection of the target
// this reader returned last has been released: until then pcscd refuses the
// next card with a sharing violation (the reader is exclusive). Seen in the
// soak through pcscd + vpcd under load: the disconnect outlasted Close's
// 100 ms, and the next phone was refused. A release stuck in pcsc-lite
// holds the wait for at most releaseWait; the connect then meets the
// sharing violation, which the state machine retries.
func (r *pcscReader) awaitRelease(ctx context.Context) {
	r.relMu.Lock()
	ch := r.releasing
	r.relMu.Unlock()
	if ch == nil {
		return
	}
	timer := time.NewTimer(releaseWait)
	defer timer.Stop()
	select {
	case <-ch:
	case <-timer.C:
	case <-ctx.Done():
	case <-r.closed.Done():
	}
}

// releaseWait bounds awaitRelease.
const releaseWait = 2 * time.Second

// SetAvailability implements reader.AvailabilityReporter: Wait reports pcscd
// going away (or not running) and the reader being unplugged as they
// happen, and the reader usable again once pcscd answers a watch of it.
func (r *pcscReader) SetAvailability(f func(error)) {
	r.mu.Lock()
	r.notify = f
	r.mu.Unlock()
}

// report tells SetAvailability's function of a change; r.mu is held.
func (r *pcscReader) report(err error) {
	if r.notify == nil || (err != nil) == r.down {
		return
	}
	r.down = err != nil
	r.notify(err)
}
func (r *pcscReader) Limits() reader.Limits { return r.limits }

// Close releases the reader; a blocked Wait returns reader.ErrClosed.
// Targets already returned stay usable until closed.
func (r *pcscReader) Close() error {
	r.closeFn()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.drop()
	return nil
}

// drop releases the watch context (pcscd went away, or Close).
func (r *pcscReader) drop() {
	if r.watch != nil {
		r.watch.Release()
		r.watch = nil
	}
}

// ensure establishes the watch context, retrying with backoff while pcscd is
// unreachable (not with Options.FailFast), until ctx ends or the reader is
// closed. pcscd unreachable is a reader.UnavailableError.
func (r *pcscReader) ensure(ctx context.Context) error {
	if r.watch != nil {
		return nil
	}
	delay := backoffMin
	for {
		c, err := scard.EstablishContext()
		if err == nil {
			r.watch = c
			// A new pcscd knows nothing of the old one's cards and counts.
			r.ws, r.pnp = freshWatch(), scard.StateUnaware
			return nil
		}
		if !isServiceErr(err) {
			return mapErr("establishing a context", err)
		}
		if r.opts.FailFast {
			return errNoService(mapErr("establishing a context", err))
		}
		r.report(errNoService(mapErr("establishing a context", err)))
		select {
		case <-ctx.Done():
			return errNoService(fmt.Errorf("%w: %w", mapErr("establishing a context", err), reader.CtxErr(ctx, "waiting for pcscd")))
		case <-r.closed.Done():
			return reader.ErrClosed
		case <-time.After(delay):
		}
		delay = min(2*delay, backoffMax)
	}
}

// watchSlice bounds each SCardGetStatusChange of Wait and WaitRemoved; they
// loop on its timeout. SCardCancel only ends a call already blocked in
// pcscd: a ctx cancelled between the loop's check and the call would
// otherwise leave it blocked for good (seen once in CI: a Wait that never
// returned after its context was cancelled across a pcscd restart).
const watchSlice = time.Second

// statusChange runs SCardGetStatusChange on the watch context, cancelled
// when ctx ends or the reader is closed.
func (r *pcscReader) statusChange(ctx context.Context, states []scard.ReaderState, timeout time.Duration) error {
	w := r.watch
	cancel := func() { w.Cancel() }
	stop1 := context.AfterFunc(ctx, cancel)
	stop2 := context.AfterFunc(r.closed, cancel)
	err := w.GetStatusChange(states, timeout)
	stop1()
	stop2()
	return err
}

// waitPnP waits until the set of readers may have changed.
func (r *pcscReader) waitPnP(ctx context.Context) {
	states := []scard.ReaderState{{Reader: pnpReader, CurrentState: r.pnp}}
	err := r.statusChange(ctx, states, pollFallback)
	switch {
	case err == nil:
		r.pnp = states[0].EventState &^ scard.StateChanged
	case isServiceErr(err):
		r.drop()
	case errors.Is(err, scard.ErrTimeout), errors.Is(err, scard.ErrCancelled):
	default:
		// The PnP pseudo-reader is not supported: poll.
		select {
		case <-ctx.Done():
		case <-r.closed.Done():
		case <-time.After(pollFallback):
		}
	}
}

func (r *pcscReader) done(ctx context.Context, what string) error {
	if r.closed.Err() != nil {
		return fmt.Errorf("%s: %w", what, reader.ErrClosed)
	}
	if ctx.Err() != nil {
		return reader.CtxErr(ctx, what)
	}
	return nil
}

// Wait returns the next target in the field; see reader.Reader.
func (r *pcscReader) Wait(ctx context.Context) (_ reader.Target, err error) {
	const what = "pcsc: waiting for a target"
	r.mu.Lock()
	defer r.mu.Unlock()
	defer func() {
		if err != nil && ctx.Err() == nil && r.closed.Err() == nil {
			// The caller reports the failure itself; the next watch of
			// the reader that works reports it usable again.
			r.down = true
		}
	}()
	for {
		if err := r.done(ctx, what); err != nil {
			return nil, err
		}
		if err := r.ensure(ctx); err != nil {
			if reader.Unavailable(err) != nil {
				return nil, err
			}
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if r.gone {
			names, err := listReaders(r.watch)
			switch {
			case isServiceErr(err):
				r.drop()
			case err != nil:
				return nil, fmt.Errorf("%s: %w", what, mapErr("listing readers", err))
			case slices.Contains(names, r.name):
				r.gone, r.ws.state = false, stateUnaware
			case r.opts.FailFast:
				return nil, errUnplugged(r.name, reader.ErrNoReader)
			default:
				r.waitPnP(ctx)
			}
			continue
		}
		states := []scard.ReaderState{
			{Reader: r.name, CurrentState: scard.StateFlag(r.ws.state)},
			{Reader: pnpReader, CurrentState: r.pnp},
		}
		err := r.statusChange(ctx, states, watchSlice)
		seen := time.Now()
		switch {
		case err == nil:
			r.report(nil) // pcscd answered a watch of the reader
		case errors.Is(err, scard.ErrCancelled), errors.Is(err, scard.ErrTimeout):
			continue
		case isServiceErr(err):
			r.report(errNoService(mapErr("watching the reader", err)))
			r.drop()
			continue
		case errors.Is(err, scard.ErrUnknownReader), errors.Is(err, scard.ErrReaderUnavailable):
			r.gone = true
			err = errUnplugged(r.name, mapErr("watching the reader", err))
			r.report(err)
			return nil, err
		default:
			return nil, fmt.Errorf("%s: %w", what, mapErr("watching the reader", err))
		}
		r.pnp = states[1].EventState &^ scard.StateChanged
		ev := readerState(states[0].EventState)
		var act action
		if r.ws, act = r.ws.onEvent(ev); act == actGone {
			r.gone = true
			err := errUnplugged(r.name, reader.ErrNoReader)
			r.report(err)
			return nil, err
		}
		var t *target
		switch act {
		case actConnect:
			r.awaitRelease(ctx)
			var err error
			t, err = r.connect(ev.count())
			r.ws, act = r.ws.onConnect(ev.count(), connectOutcome(err))
			if act == actFail {
				return nil, fmt.Errorf("%s: %w", what, mapErr("connecting", err))
			}
		case actProbe:
			r.awaitRelease(ctx)
			var err error
			t, err = r.probe(ev.count())
			r.ws, act = r.ws.onProbe(ev.count(), connectOutcome(err))
		default:
			continue
		}
		switch act {
		case actServe:
			t.detected = seen
			return t, nil
		case actReconnect:
			r.drop()
		case actRetry:
			select {
			case <-ctx.Done():
			case <-r.closed.Done():
			case <-time.After(connectRetryDelay):
			}
		}
	}
}

// connectOutcome sorts the error of connect for the state machine.
func connectOutcome(err error) connectResult {
	switch {
	case err == nil:
		return connectOK
	case isServiceErr(err):
		return connectNoService
	case errors.Is(err, scard.ErrNoSmartcard), errors.Is(err, scard.ErrRemovedCard),
		errors.Is(err, scard.ErrUnpoweredCard), errors.Is(err, scard.ErrUnresponsiveCard):
		return connectStale
	case errors.Is(err, scard.ErrSharingViolation), errors.Is(err, scard.ErrProtoMismatch):
		return connectBusy
	}
	return connectFailed
}

// probe looks for a card pcscd hides (see actProbe): a direct connection,
// which pcscd grants without a card, then a reconnect that resets the card
// in the field, which makes pcscd publish it as present again.
func (r *pcscReader) probe(count int) (*target, error) {
	c, err := scard.EstablishContext()
	if err != nil {
		return nil, err
	}
	card, err := c.Connect(r.name, scard.ShareDirect, scard.ProtocolUndefined)
	if err != nil {
		c.Release()
		return nil, err
	}
	mode := scard.ShareExclusive
	if r.opts.Shared {
		mode = scard.ShareShared
	}
	if err := card.Reconnect(mode, scard.ProtocolAny, scard.ResetCard); err != nil {
		card.Disconnect(scard.LeaveCard)
		c.Release()
		return nil, err
	}
	st, err := card.Status()
	if err != nil || len(st.Atr) == 0 {
		card.Disconnect(scard.LeaveCard)
		c.Release()
		if err == nil {
			err = scard.ErrNoSmartcard
		}
		return nil, err
	}
	return &target{r: r, ctx: c, card: card, atr: slices.Clone(st.Atr), count: count, mode: mode}, nil
}

// connect opens the target on a context of its own for I/O.
func (r *pcscReader) connect(count int) (*target, error) {
	c, err := scard.EstablishContext()
	if err != nil {
		return nil, err
	}
	mode := scard.ShareExclusive
	if r.opts.Shared {
		mode = scard.ShareShared
	}
	card, err := c.Connect(r.name, mode, scard.ProtocolAny)
	if err != nil {
		c.Release()
		return nil, err
	}
	st, err := card.Status()
	if err != nil {
		card.Disconnect(scard.LeaveCard)
		c.Release()
		return nil, err
	}
	return &target{r: r, ctx: c, card: card, atr: slices.Clone(st.Atr), count: count, mode: mode}, nil
}

// waitRemoved waits until the card returned with event count count has
// left the reader.
func (r *pcscReader) waitRemoved(ctx context.Context, count int) error {
	const what = "pcsc: waiting for the target to leave"
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		if err := r.done(ctx, what); err != nil {
			return err
		}
		if r.watch == nil {
			// pcscd went away since the target arrived: its cards with it.
			return nil
		}
		states := []scard.ReaderState{{Reader: r.name, CurrentState: scard.StateFlag(r.ws.state)}}
		err := r.statusChange(ctx, states, watchSlice)
		switch {
		case err == nil:
		case errors.Is(err, scard.ErrCancelled), errors.Is(err, scard.ErrTimeout):
			continue
		case isServiceErr(err):
			r.drop()
			return nil
		case errors.Is(err, scard.ErrUnknownReader), errors.Is(err, scard.ErrReaderUnavailable):
			r.gone = true
			return nil
		default:
			return fmt.Errorf("%s: %w", what, mapErr("watching the reader", err))
		}
		var rm removal
		switch r.ws, rm = r.ws.onRemovalEvent(readerState(states[0].EventState), count); rm {
		case removalGone:
			r.gone = true
			return nil
		case removalDone:
			return nil
		}
	}
}

// target is a connected card with its own PC/SC context.
type target struct {
	r     *pcscReader
	ctx   *scard.Context
	card  *scard.Card
	atr   []byte
	count int
	mode  scard.ShareMode
	// detected is when pcscd reported the card present, before Connect.
	detected time.Time

	mu       sync.Mutex
	closed   bool
	dead     error          // set once the card is known lost
	inflight sync.WaitGroup // an abandoned Transmit still in pcsc-lite
}

func (t *target) ATR() []byte { return t.atr }

// Detected implements reader.Detector: the time pcscd reported the card
// present, before the connection powered it up.
func (t *target) Detected() time.Time { return t.detected }

func (t *target) Limits() reader.Limits { return t.r.limits }

func (t *target) WaitRemoved(ctx context.Context) error {
	return t.r.waitRemoved(ctx, t.count)
}

type result struct {
	rsp []byte
	err error
}

// Transmit sends one command APDU. It refuses commands the reader's limits
// do not allow (an empty one included: scard would panic on it). When ctx
// ends first, the command is abandoned, Transmit returns the context's
// error, and the target is unusable (pcsc-lite cannot abort a transmit).
func (t *target) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	const what = "pcsc: transmitting"
	if err := t.r.limits.CheckCommand(apdu); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	t.mu.Lock()
	switch {
	case t.closed:
		t.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", what, reader.ErrClosed)
	case t.dead != nil:
		t.mu.Unlock()
		return nil, t.dead
	}
	t.inflight.Add(1)
	t.mu.Unlock()
	if ctx.Err() != nil {
		t.inflight.Done()
		return nil, reader.CtxErr(ctx, what)
	}

	var rsp []byte
	var err error
	if ctx.Done() == nil {
		rsp, err = t.transmit(apdu)
		t.inflight.Done()
	} else {
		ch := make(chan result, 1)
		cmd := slices.Clone(apdu) // the caller may reuse apdu once we return
		go func() {
			defer t.inflight.Done()
			rsp, err := t.transmit(cmd)
			ch <- result{rsp, err}
		}()
		select {
		case res := <-ch:
			rsp, err = res.rsp, res.err
		case <-ctx.Done():
			err := reader.CtxErr(ctx, what)
			t.kill(fmt.Errorf("%s: target abandoned after an unfinished command: %w", what, reader.ErrClosed))
			return nil, err
		}
	}
	if err != nil {
		err = mapErr("transmitting", err)
		if !errors.Is(err, reader.ErrBadCommand) {
			t.kill(err)
		}
		return nil, err
	}
	if len(rsp) < 2 {
		// No status word (ISO/IEC 7816-4 clause 5.1): no card answers
		// like that. vpcd (0.8) reports success with an empty response
		// when the card drops the connection in the middle of a command.
		err := fmt.Errorf("%s: %d-byte response without a status word: %w", what, len(rsp), reader.ErrRemoved)
		t.kill(err)
		return nil, err
	}
	return rsp, nil
}

// transmit is one SCardTransmit. When pcscd refuses it because the card was
// powered up again under this handle (SCARD_W_RESET_CARD, or
// SCARD_E_PROTO_MISMATCH once the new power-up left no protocol chosen), the
// command never reached the card: the handle is reconnected without touching
// the card and the command sent once more. pcscd's presence thread does that
// power-up when it sees a card our probe (actProbe) already connected.
func (t *target) transmit(cmd []byte) ([]byte, error) {
	rsp, err := t.card.Transmit(cmd)
	if errors.Is(err, scard.ErrProtoMismatch) || errors.Is(err, scard.ErrResetCard) {
		if rerr := t.card.Reconnect(t.mode, scard.ProtocolAny, scard.LeaveCard); rerr == nil {
			return t.card.Transmit(cmd)
		}
	}
	return rsp, err
}

func (t *target) kill(err error) {
	t.mu.Lock()
	if t.dead == nil {
		t.dead = err
	}
	t.mu.Unlock()
}

// Close powers the card down (vpcd passes this on as power off at once)
// and releases the target's context. With an abandoned Transmit still in
// pcsc-lite, the release happens when it returns.
func (t *target) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.mu.Unlock()
	released := make(chan struct{})
	t.r.relMu.Lock()
	t.r.releasing = released
	t.r.relMu.Unlock()
	release := func() error {
		defer close(released)
		t.inflight.Wait()
		err := t.card.Disconnect(scard.UnpowerCard)
		t.ctx.Release()
		if err != nil && !isGoneErr(err) {
			return fmt.Errorf("pcsc: disconnecting: %w", err)
		}
		return nil
	}
	done := make(chan error, 1)
	go func() { done <- release() }()
	select {
	case err := <-done:
		return err
	case <-time.After(100 * time.Millisecond):
		// An abandoned command is still in pcsc-lite; it finishes on
		// its own.
		return nil
	}
}

// isServiceErr reports errors after which the context must be established
// again.
func isServiceErr(err error) bool {
	return errors.Is(err, scard.ErrNoService) || errors.Is(err, scard.ErrCommError) ||
		errors.Is(err, scard.ErrServiceStopped) || errors.Is(err, scard.ErrInvalidHandle)
}

// isGoneErr reports errors that mean the card, reader or service is gone
// already.
func isGoneErr(err error) bool {
	return isServiceErr(err) || errors.Is(err, scard.ErrRemovedCard) || errors.Is(err, scard.ErrNoSmartcard) ||
		errors.Is(err, scard.ErrReaderUnavailable) || errors.Is(err, scard.ErrUnknownReader)
}

// mapErr wraps a pcsc-lite error with the reader sentinel callers branch
// on, keeping the scard.Error for errors.As.
func mapErr(op string, err error) error {
	var sc scard.Error
	if !errors.As(err, &sc) {
		return fmt.Errorf("pcsc: %s: %w", op, err)
	}
	var sentinel error
	switch sc {
	case scard.ErrRemovedCard, scard.ErrNotTransacted, scard.ErrNoSmartcard, scard.ErrResetCard,
		scard.ErrUnpoweredCard, scard.ErrUnresponsiveCard:
		// SCARD_E_NOT_TRANSACTED is what a transmit gets when the card
		// left before pcscd's next presence poll noticed.
		sentinel = reader.ErrRemoved
	case scard.ErrNoService, scard.ErrServiceStopped, scard.ErrCommError, scard.ErrInvalidHandle:
		sentinel = reader.ErrServiceUnavailable
	case scard.ErrUnknownReader, scard.ErrReaderUnavailable, scard.ErrNoReadersAvailable:
		sentinel = reader.ErrNoReader
	case scard.ErrTimeout:
		sentinel = reader.ErrTimeout
	default:
		return fmt.Errorf("pcsc: %s: %w (0x%08X)", op, sc, uint32(sc))
	}
	return fmt.Errorf("pcsc: %s: %w: %w (0x%08X)", op, sentinel, sc, uint32(sc))
}

package terminal

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
	"github.com/idreader/idreader/verify"
)

// Errors a caller of Tap can branch on, besides the verification codes.
var (
	// ErrNoCarrier: the wallet offered no data retrieval this terminal can use.
	ErrNoCarrier = errors.New("terminal: no usable data retrieval method")
	// ErrWalletStatus: the wallet ended the session with a status instead of
	// a response (ISO/IEC 18013-5 clause 9.1.1.4, status 10, 11 or 20).
	ErrWalletStatus = errors.New("terminal: wallet answered with a session status")
	// ErrTimeout: a step did not finish within its time limit.
	ErrTimeout = errors.New("terminal: timed out")
)

// Engagements of a tap (ISO/IEC 18013-5 clause 8.2.2).
const (
	EngagementNFC = "nfc" // NFC handover, static or negotiated
	EngagementQR  = "qr"  // a scanned mdoc: QR code
)

// ReaderIdentity is the terminal's own reader-authentication certificate
// chain (leaf first) and its private key (ISO/IEC 18013-5 clause 9.1.4).
type ReaderIdentity struct {
	Key   crypto.Signer
	Chain []*x509.Certificate
}

// Config is what one tap needs besides the target.
type Config struct {
	// Rand is the randomness for the ephemeral key, the handover's
	// collision-resolution number and signatures; nil means crypto/rand.
	Rand io.Reader
	// Now is the clock for verification; nil means time.Now.
	Now func() time.Time
	// Trust holds the IACA roots.
	Trust *verify.TrustStore
	// Revocation, when set, is asked about every document whose DS chains
	// to Trust (verify.Options.Revocation).
	Revocation verify.RevocationChecker
	// Limits are the physical reader's APDU limits.
	Limits nfc.Limits
	// Request is the request profile: what to ask the wallet for.
	Request RequestProfile
	// ReaderAuth signs each DocRequest when set.
	ReaderAuth *ReaderIdentity
	// Sleep waits T_wait during negotiated handover; nil means nfc.Sleep.
	Sleep nfc.SleepFunc
	// EngagementTimeout bounds the handover, ExchangeTimeout the request and
	// response; zero means 5 s and 30 s. The wallet may wait for the user's
	// consent before it answers, hence the long second limit.
	EngagementTimeout time.Duration
	ExchangeTimeout   time.Duration
	// Transports is the preference order of the data retrieval methods, used
	// when the wallet selects several (and the set the terminal offers in
	// its Handover Request); nil means DefaultTransports(). A BLE transport
	// is only used when BLE holds the matching GATT role.
	Transports []Transport
	// BLE is the Bluetooth LE radio; the zero value has none, and then only
	// NFC data transfer is offered (the behaviour before BLE existed).
	BLE BLEConfig
	// Record keeps in Outcome.Evidence what a third party needs to verify
	// the tap again offline. It is personal data; see Evidence.
	Record bool
	// EphemeralKey, when set, gives the EReaderKey instead of a fresh one
	// (ISO/IEC 18013-5 clause 9.1.5.2 wants a new key per session: this is
	// for replaying a recorded tap, `idreader replay`, and tests only).
	EphemeralKey func(*mdoc.DeviceEngagement) (*ecdh.PrivateKey, error)
	// DeviceRequest, when set, is sent as it is instead of a request built
	// from Request and signed with ReaderAuth (replaying a recorded tap).
	DeviceRequest []byte
}

// Outcome is what one tap produced. Result is nil when the exchange failed
// before a DeviceResponse was received.
type Outcome struct {
	Result *verify.Result
	// Negotiated reports TNEP negotiated handover (false: static, or QR).
	Negotiated bool
	// QR reports a QR engagement (TapQR).
	QR bool
	// Transport is the data retrieval method used, empty when the tap
	// failed before one was chosen.
	Transport Transport
	// MTU is the ATT MTU of a BLE transport (0 for NFC).
	MTU int
	// Steps holds the duration of each step, for metrics.
	Steps []StepTime
	// Timing holds the duration of each phase the terminal owns (detection
	// to verification); the daemon adds decision and output.
	Timing Timing
	// TerminationErr is set when sending the termination message failed
	// after the response had been received; the verdict stands.
	TerminationErr error
	// Evidence is what Config.Record keeps, nil without it (or when the
	// tap failed before the session started).
	Evidence *Evidence
}

// Evidence is what a third party needs to verify one tap again offline:
// the messages as they crossed the air (decrypted), the SessionTranscript
// they are bound to, and the EReaderKey (with it a deviceMac can be checked).
// The DeviceResponse holds the holder's personal data.
type Evidence struct {
	// DeviceRequest is the plaintext DeviceRequest as sent.
	DeviceRequest []byte
	// SessionTranscript is SessionTranscriptBytes: the SessionTranscript
	// array wrapped in tag 24 (ISO/IEC 18013-5 clause 9.1.5.1).
	SessionTranscript []byte
	// DeviceResponse is the plaintext DeviceResponse as received, nil when
	// none was.
	DeviceResponse []byte
	// ReaderKey is the reader's ephemeral private key.
	ReaderKey *ecdh.PrivateKey
}

// StepTime is the duration of one named step of a tap.
type StepTime struct {
	Step     string
	Duration time.Duration
}

// tap is the state of one exchange: each step reads what the previous ones
// left and fails closed.
type tap struct {
	cfg Config
	t   nfc.Transceiver // nil for a QR engagement
	qr  string
	out *Outcome

	handover     *nfc.HandoverResult
	sessHandover session.Handover
	de           *mdoc.DeviceEngagement
	route        route
	sess         *session.Reader
	tr           MessageTransport
	request      []byte
	response     []byte
	// spareKey is an EReaderKey on P-256 made during a TNEP wait (see
	// sleepWorking), taken when the wallet's EDeviceKey is on P-256.
	spareKey *ecdh.PrivateKey
}

// step is one named step of a tap with its time limit (0: none).
type step struct {
	name    string
	timeout time.Duration
	run     func(context.Context) error
	// phase is the phase the step's time counts to; empty when the step
	// records its phases itself.
	phase Phase
	// alongside runs the step at the same time as the next one: their
	// inputs are independent (the session keys and request need no
	// transport; opening the transport needs no keys), so the wire and
	// the CPU work overlap. Both must succeed.
	alongside bool
	// terminating sends the session termination while the step runs: the
	// last message of the session has been received before it.
	terminating bool
}

// Tap runs one complete exchange with the target and returns the verified
// outcome. An error means the exchange itself failed (the target left, the
// wallet stalled or answered garbage); a rejected response is not an error,
// it is an Outcome whose Result is not accepted.
//
// The engagement is NFC (static or negotiated handover); the data retrieval
// is what the wallet selects in its Handover Select, by cfg.Transports: NFC
// data transfer on t, or BLE through cfg.BLE.
func Tap(ctx context.Context, t nfc.Transceiver, cfg Config) (*Outcome, error) {
	tp, err := newTap(cfg)
	if err != nil {
		return nil, err
	}
	tp.t = t
	if d, ok := t.(detector); ok {
		if at := d.Detected(); !at.IsZero() {
			tp.out.Timing.Detection = time.Since(at)
		}
	}
	return tp.run(ctx, tp.steps(tp.engage))
}

// TapQR runs one complete exchange after a QR engagement (ISO/IEC 18013-5
// clause 8.2.2.3): text is what the wallet's QR code holds, "mdoc:" and the
// base64url DeviceEngagement (see QRScanner). The SessionTranscript uses
// the QR handover (null), and the data retrieval goes over BLE by the
// DeviceEngagement's retrieval methods and cfg.Transports; cfg.BLE must hold
// at least one GATT role. Errors and outcome are as for Tap.
func TapQR(ctx context.Context, text string, cfg Config) (*Outcome, error) {
	tp, err := newTap(cfg)
	if err != nil {
		return nil, err
	}
	tp.qr = text
	tp.out.QR = true
	return tp.run(ctx, tp.steps(tp.engageQR))
}

// detector is implemented by targets that know when the reader saw them
// arrive (see reader.Detector).
type detector interface {
	Detected() time.Time
}

// steps is the straight line of one tap after the given engagement.
func (tp *tap) steps(engage func(context.Context) error) []step {
	return []step{
		{name: "engagement", timeout: tp.cfg.EngagementTimeout, run: engage, phase: PhaseEngagement},
		{name: "session", timeout: tp.cfg.EngagementTimeout, run: tp.startSession, alongside: true},
		{name: "connect", run: tp.connect, phase: PhaseTransfer},
		{name: "request", timeout: tp.cfg.ExchangeTimeout, run: tp.exchange, phase: PhaseTransfer},
		{name: "verify", run: tp.verify, phase: PhaseVerification, terminating: true},
	}
}

// newTap fills the defaults of cfg.
func newTap(cfg Config) (*tap, error) {
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.EngagementTimeout == 0 {
		cfg.EngagementTimeout = 5 * time.Second
	}
	if cfg.ExchangeTimeout == 0 {
		cfg.ExchangeTimeout = 30 * time.Second
	}
	if len(cfg.Request.Requests) == 0 && cfg.DeviceRequest == nil {
		return nil, errors.New("terminal: the profile requests nothing")
	}
	for _, t := range cfg.Transports {
		if _, err := ParseTransport(string(t)); err != nil {
			return nil, err
		}
	}
	return &tap{cfg: cfg, out: &Outcome{}}, nil
}

// run runs the steps in order, each under its time limit (a step marked
// alongside together with the next one), sends the session termination
// while the terminating step runs, and always releases the transport.
func (tp *tap) run(ctx context.Context, steps []step) (*Outcome, error) {
	defer tp.closeTransport(ctx)
	for i := 0; i < len(steps); i++ {
		s := steps[i]
		if s.alongside && i+1 < len(steps) {
			i++
			if err := tp.runPair(ctx, s, steps[i]); err != nil {
				return tp.out, err
			}
			continue
		}
		var term chan error
		if s.terminating {
			term = make(chan error, 1)
			go func() { term <- runStep(ctx, tp.cfg.EngagementTimeout, tp.terminate) }()
			startFirst()
		}
		d, err := timeStep(ctx, s)
		tp.record(s, d)
		if term != nil {
			tp.out.TerminationErr = <-term
		}
		if err != nil {
			return tp.out, err
		}
	}
	return tp.out, nil
}

// startFirst lets the goroutine just started (a step that sends a command)
// run up to its first wait before the caller goes on computing. Go puts a new
// goroutine in the run-next slot of the creator's processor, where it waits
// until the creator blocks or another processor steals it: without the
// yield, the SELECT or the session termination could go out only after the
// session keys or the verification it was meant to overlap (through the rig
// on an idle machine the termination waited 170-210 µs for the
// verification, 40 µs with the yield).
func startFirst() { runtime.Gosched() }

// runPair runs a and b at the same time (b is the step that talks to the
// wallet and starts first); when a fails, b is cancelled. The first step's
// error wins.
func (tp *tap) runPair(ctx context.Context, a, b step) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var bd time.Duration
	var berr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		bd, berr = timeStep(ctx, b)
	}()
	startFirst()
	ad, aerr := timeStep(ctx, a)
	if aerr != nil {
		cancel()
	}
	<-done
	tp.record(a, ad)
	tp.record(b, bd)
	if aerr != nil {
		return aerr
	}
	return berr
}

func timeStep(ctx context.Context, s step) (time.Duration, error) {
	start := time.Now()
	err := runStep(ctx, s.timeout, s.run)
	return time.Since(start), err
}

// record keeps the step's duration and adds it to its phase.
func (tp *tap) record(s step, d time.Duration) {
	tp.out.Steps = append(tp.out.Steps, StepTime{s.name, d})
	tp.out.Timing.Add(s.phase, d)
}

func runStep(ctx context.Context, timeout time.Duration, f func(context.Context) error) error {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	err := f(ctx)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		err = fmt.Errorf("%w: %w", ErrTimeout, err)
	}
	return err
}

// engage reads the wallet's Handover Select, writing the terminal's Handover
// Request first when the wallet asks for negotiated handover (ISO/IEC 18013-5
// clause 8.2.2.1), and picks the data retrieval among the carriers the
// wallet selected. The request offers NFC data transfer and, with a BLE
// radio, BLE with the terminal's own service UUID.
func (tp *tap) engage(ctx context.Context) error {
	pref := tp.cfg.preference(true)
	var uuid ble.UUID
	if slices.Contains(pref, TransportBLECentralClient) {
		var err error
		if uuid, err = newServiceUUID(tp.cfg.Rand); err != nil {
			return err
		}
	}
	hr, err := nfc.NewHandoverRequest(tp.cfg.Rand, requestCarriers(pref, uuid), nil)
	if err != nil {
		return fmt.Errorf("building handover request: %w", err)
	}
	hrBytes, err := hr.Encode()
	if err != nil {
		return fmt.Errorf("encoding handover request: %w", err)
	}
	hand := &nfc.HandoverReader{Limits: tp.cfg.Limits, Request: hrBytes, Sleep: tp.sleepWorking}
	res, err := hand.Read(ctx, tp.t)
	if err != nil {
		return fmt.Errorf("reading handover: %w", err)
	}
	tp.handover = res
	tp.out.Negotiated = res.Negotiated
	if tp.route, err = choose(pref, handoverOffers(res)); err != nil {
		return err
	}
	de, err := mdoc.ParseDeviceEngagement(res.DeviceEngagement)
	if err != nil {
		return fmt.Errorf("reading device engagement: %w", err)
	}
	tp.de = de
	var request []byte
	if res.Negotiated {
		request = res.Request
	}
	if tp.sessHandover, err = session.NFCHandover(res.Select, request); err != nil {
		return fmt.Errorf("building handover: %w", err)
	}
	return nil
}

// newServiceUUID draws a random (version 4, RFC 9562) service UUID for mdoc
// central client mode.
func newServiceUUID(r io.Reader) (ble.UUID, error) {
	var u ble.UUID
	if _, err := io.ReadFull(r, u[:]); err != nil {
		return u, fmt.Errorf("drawing ble service uuid: %w", err)
	}
	u[6] = u[6]&0x0F | 0x40
	u[8] = u[8]&0x3F | 0x80
	return u, nil
}

// startSession makes the ephemeral reader key on the wallet's curve and the
// SessionTranscript over the handover bytes as they crossed the air, signs
// and encrypts the DeviceRequest (clauses 9.1.1, 9.1.4, 9.1.5).
func (tp *tap) startSession(ctx context.Context) error {
	start := time.Now()
	sess, err := tp.newSession()
	tp.out.Timing.Session = time.Since(start)
	if err != nil {
		return fmt.Errorf("starting session: %w", err)
	}
	tp.sess = sess
	start = time.Now()
	defer func() { tp.out.Timing.Request = time.Since(start) }()
	raw := tp.cfg.DeviceRequest
	if raw == nil {
		if raw, err = tp.buildRequest(sess); err != nil {
			return err
		}
	}
	tp.request, err = sess.Establish(raw)
	if err != nil {
		return fmt.Errorf("encrypting device request: %w", err)
	}
	if tp.cfg.Record {
		tp.out.Evidence = &Evidence{DeviceRequest: raw, SessionTranscript: sess.Transcript().Bytes(), ReaderKey: sess.PrivateKey()}
	}
	return nil
}

// buildRequest builds the DeviceRequest of the request profile, each DocRequest
// signed with the reader's identity when it has one (clause 9.1.4).
func (tp *tap) buildRequest(sess *session.Reader) ([]byte, error) {
	var docs []mdoc.DocRequest
	for _, ir := range tp.cfg.Request.Requests {
		dr, err := mdoc.NewDocRequest(ir)
		if err != nil {
			return nil, fmt.Errorf("building request for %s: %w", ir.DocType, err)
		}
		if id := tp.cfg.ReaderAuth; id != nil {
			sig, err := session.SignReaderAuth(tp.cfg.Rand, id.Key, id.Chain, sess.Transcript(), dr.ItemsRequestBytes)
			if err != nil {
				return nil, fmt.Errorf("signing reader authentication: %w", err)
			}
			dr.ReaderAuth = sig
		}
		docs = append(docs, dr)
	}
	req, err := mdoc.EncodeDeviceRequest(docs[0], docs[1:]...)
	if err != nil {
		return nil, fmt.Errorf("building device request: %w", err)
	}
	return req, nil
}

// sleepWorking is the T_wait of negotiated handover (TNEP 1.0 clause 4.1.6)
// put to use: the reader makes a spare EReaderKey on P-256 while the wallet
// prepares its answer, and the wait still lasts at least d. The key is this
// tap's own, made fresh like any other; it is used only if the wallet's
// EDeviceKey turns out to be on P-256 (newSession).
func (tp *tap) sleepWorking(ctx context.Context, d time.Duration) error {
	start := time.Now()
	if tp.spareKey == nil && tp.cfg.EphemeralKey == nil {
		if k, err := ecdh.P256().GenerateKey(tp.cfg.Rand); err == nil {
			tp.spareKey = k
		}
	}
	sleep := tp.cfg.Sleep
	if sleep == nil {
		sleep = nfc.Sleep
	}
	return sleep(ctx, max(d-time.Since(start), 0))
}

// newSession makes the session with a fresh EReaderKey on the wallet's
// curve (the spare one of sleepWorking when it fits), or with the one
// Config.EphemeralKey gives.
func (tp *tap) newSession() (*session.Reader, error) {
	if tp.cfg.EphemeralKey == nil {
		if k := tp.spareKey; k != nil && tp.de != nil && tp.de.EDeviceKey != nil && tp.de.EDeviceKey.Crv == mdoc.CrvP256 {
			tp.spareKey = nil
			return session.NewReaderWithKey(k, tp.de, tp.sessHandover)
		}
		return session.NewReader(tp.cfg.Rand, tp.de, tp.sessHandover)
	}
	priv, err := tp.cfg.EphemeralKey(tp.de)
	if err != nil {
		return nil, fmt.Errorf("making EReaderKey: %w", err)
	}
	return session.NewReaderWithKey(priv, tp.de, tp.sessHandover)
}

// connect opens the chosen transport: SELECT of the NFC data transfer
// application (clause 8.3.3.1.2) within the engagement limit, or the BLE
// connection set-up (clause 8.3.3.1.1) within BLEConfig.ConnectTimeout.
func (tp *tap) connect(ctx context.Context) error {
	tp.out.Transport = tp.route.transport
	limit := tp.cfg.EngagementTimeout
	if tp.route.transport != TransportNFC {
		limit = max(limit, tp.cfg.BLE.connectTimeout())
	}
	return runStep(ctx, limit, tp.open)
}

func (tp *tap) open(ctx context.Context) error {
	if tp.route.transport == TransportNFC {
		tr, err := openNFC(ctx, tp.t, tp.cfg.Limits, tp.route.nfc)
		if err != nil {
			return err
		}
		tp.tr = tr
		return nil
	}
	tr, err := openBLE(ctx, tp.cfg.BLE, tp.route, tp.de)
	if err != nil {
		return err
	}
	tp.tr = tr
	tp.out.MTU = tr.conn.MTU()
	return nil
}

// exchange sends the SessionEstablishment and reads back the SessionData.
func (tp *tap) exchange(ctx context.Context) error {
	reply, err := tp.tr.Exchange(ctx, tp.request)
	if err != nil {
		return fmt.Errorf("exchanging request: %w", err)
	}
	msg, err := tp.sess.Open(reply)
	if err != nil {
		tp.sendStatus(ctx, openFailureStatus(err))
		return fmt.Errorf("decrypting response: %w", err)
	}
	if msg.Plaintext == nil {
		return fmt.Errorf("%w %d", ErrWalletStatus, msg.Status)
	}
	tp.response = msg.Plaintext
	if tp.out.Evidence != nil {
		tp.out.Evidence.DeviceResponse = msg.Plaintext
	}
	return nil
}

// verify checks the DeviceResponse against the trust store, the clock, the
// session transcript and the ephemeral key (clause 9.1.2, 9.1.3). The
// plaintext is this tap's own and nothing changes it (the evidence only
// reads it): the Result may alias it.
func (tp *tap) verify(ctx context.Context) error {
	res, err := verify.VerifyNoCopy(tp.response, verify.Options{
		Trust:             tp.cfg.Trust,
		Revocation:        tp.cfg.Revocation,
		Now:               tp.cfg.Now(),
		SessionTranscript: tp.sess.Transcript().Bytes(),
		ReaderKey:         tp.sess.PrivateKey(),
		// Only what the profile asked for is kept (clause 8.3.2.1.2.1).
		Request: tp.cfg.Request.Requests,
	})
	if res == nil {
		return fmt.Errorf("verifying response: %w", err)
	}
	tp.out.Result = res
	return nil
}

// terminate ends the session with SessionData status 20, followed over BLE
// by State 0x02 and a disconnect (clause 9.1.1.4, 8.3.3.1.1.7).
func (tp *tap) terminate(ctx context.Context) error {
	msg, err := tp.sess.Terminate()
	if err != nil {
		return fmt.Errorf("encoding termination: %w", err)
	}
	if err := tp.tr.Terminate(ctx, msg); err != nil {
		return fmt.Errorf("sending termination: %w", err)
	}
	return nil
}

// openFailureStatus is the SessionData status that tells the wallet why its
// message was refused (ISO/IEC 18013-5 clause 9.1.1.4, table 20): 10 when it
// did not decrypt, 11 when it was not a SessionData.
func openFailureStatus(err error) session.Status {
	if errors.Is(err, session.ErrDecrypt) {
		return session.StatusEncryptionError
	}
	return session.StatusDecodingError
}

// sendStatus ends the session with SessionData {"status": st} before the
// tap fails, so the wallet learns why (clause 9.1.1.4); over BLE State
// 0x02 follows. A failure to send is recorded as the termination error: the
// tap's own error stands.
func (tp *tap) sendStatus(ctx context.Context, st session.Status) {
	msg, err := tp.sess.SendStatus(st)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tp.cfg.EngagementTimeout)
		defer cancel()
		err = tp.tr.Terminate(ctx, msg)
	}
	if err != nil {
		tp.out.TerminationErr = fmt.Errorf("sending status %d: %w", st, err)
	}
}

// closeTransport releases the transport (over BLE: State 0x02 and a
// disconnect, unless done), even when ctx has ended.
func (tp *tap) closeTransport(ctx context.Context) {
	if tp.tr == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), tp.cfg.EngagementTimeout)
	defer cancel()
	// The verdict (or the step's error) stands; a failure to close after a
	// verified response is reported like a failed termination.
	if err := tp.tr.Close(ctx); err != nil && tp.out.Result != nil && tp.out.TerminationErr == nil {
		tp.out.TerminationErr = fmt.Errorf("closing transport: %w", err)
	}
}

package terminal

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"time"

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
	// Limits are the physical reader's APDU limits.
	Limits nfc.Limits
	// Profile is what to request.
	Profile Profile
	// ReaderAuth signs each DocRequest when set.
	ReaderAuth *ReaderIdentity
	// Sleep waits T_wait during negotiated handover; nil means nfc.Sleep.
	Sleep nfc.SleepFunc
	// EngagementTimeout bounds the handover, ExchangeTimeout the request and
	// response; zero means 5 s and 30 s. The wallet may wait for the user's
	// consent before it answers, hence the long second limit.
	EngagementTimeout time.Duration
	ExchangeTimeout   time.Duration
}

// Outcome is what one tap produced. Result is nil when the exchange failed
// before a DeviceResponse was received.
type Outcome struct {
	Result *verify.Result
	// Negotiated reports TNEP negotiated handover (false: static).
	Negotiated bool
	// Steps holds the duration of each step, for metrics.
	Steps []StepTime
	// TerminationErr is set when sending the termination message failed
	// after the response had been received; the verdict stands.
	TerminationErr error
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
	t   nfc.Transceiver
	out *Outcome

	handover *nfc.HandoverResult
	de       *mdoc.DeviceEngagement
	sess     *session.Reader
	exch     *nfc.Exchanger
	request  []byte
	response []byte
}

// Tap runs one complete exchange with the target and returns the verified
// outcome. An error means the exchange itself failed (the target left, the
// wallet stalled or answered garbage); a rejected response is not an error,
// it is an Outcome whose Result is not accepted.
func Tap(ctx context.Context, t nfc.Transceiver, cfg Config) (*Outcome, error) {
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
	if len(cfg.Profile.Requests) == 0 {
		return nil, errors.New("terminal: the profile requests nothing")
	}
	tp := &tap{cfg: cfg, t: t, out: &Outcome{}}
	steps := []struct {
		name    string
		timeout time.Duration
		run     func(context.Context) error
	}{
		{"engagement", cfg.EngagementTimeout, tp.engage},
		{"session", cfg.EngagementTimeout, tp.startSession},
		{"request", cfg.ExchangeTimeout, tp.exchange},
		{"verify", 0, tp.verify},
	}
	for _, s := range steps {
		start := time.Now()
		err := runStep(ctx, s.timeout, s.run)
		tp.out.Steps = append(tp.out.Steps, StepTime{s.name, time.Since(start)})
		if err != nil {
			return tp.out, err
		}
	}
	tp.out.TerminationErr = runStep(ctx, cfg.EngagementTimeout, tp.terminate)
	return tp.out, nil
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
// clause 8.2.2.1). The request offers NFC data transfer.
func (tp *tap) engage(ctx context.Context) error {
	hr, err := nfc.NewHandoverRequest(tp.cfg.Rand, nfc.Carriers{NFC: &nfc.NFCCarrier{Version: 1}}, nil)
	if err != nil {
		return fmt.Errorf("building handover request: %w", err)
	}
	hrBytes, err := hr.Encode()
	if err != nil {
		return fmt.Errorf("encoding handover request: %w", err)
	}
	hand := &nfc.HandoverReader{Limits: tp.cfg.Limits, Request: hrBytes, Sleep: tp.cfg.Sleep}
	res, err := hand.Read(ctx, tp.t)
	if err != nil {
		return fmt.Errorf("reading handover: %w", err)
	}
	tp.handover = res
	tp.out.Negotiated = res.Negotiated
	if res.Carriers.NFC == nil {
		return fmt.Errorf("choosing a carrier: %w (the wallet offers no NFC data transfer)", ErrNoCarrier)
	}
	de, err := mdoc.ParseDeviceEngagement(res.DeviceEngagement)
	if err != nil {
		return fmt.Errorf("reading device engagement: %w", err)
	}
	tp.de = de
	return nil
}

// startSession makes the ephemeral reader key on the wallet's curve and the
// SessionTranscript over the handover bytes as they crossed the air, signs
// and encrypts the DeviceRequest (clauses 9.1.1, 9.1.4, 9.1.5).
func (tp *tap) startSession(ctx context.Context) error {
	var request []byte
	if tp.handover.Negotiated {
		request = tp.handover.Request
	}
	h, err := session.NFCHandover(tp.handover.Select, request)
	if err != nil {
		return fmt.Errorf("building handover: %w", err)
	}
	sess, err := session.NewReader(tp.cfg.Rand, tp.de, h)
	if err != nil {
		return fmt.Errorf("starting session: %w", err)
	}
	tp.sess = sess
	var docs []mdoc.DocRequest
	for _, ir := range tp.cfg.Profile.Requests {
		dr, err := mdoc.NewDocRequest(ir)
		if err != nil {
			return fmt.Errorf("building request for %s: %w", ir.DocType, err)
		}
		if id := tp.cfg.ReaderAuth; id != nil {
			sig, err := session.SignReaderAuth(tp.cfg.Rand, id.Key, id.Chain, sess.Transcript(), dr.ItemsRequestBytes)
			if err != nil {
				return fmt.Errorf("signing reader authentication: %w", err)
			}
			dr.ReaderAuth = sig
		}
		docs = append(docs, dr)
	}
	req, err := mdoc.BuildDeviceRequest(docs[0], docs[1:]...)
	if err != nil {
		return fmt.Errorf("building device request: %w", err)
	}
	tp.request, err = sess.Establish(req.Raw)
	if err != nil {
		return fmt.Errorf("encrypting device request: %w", err)
	}
	return nil
}

// exchange selects the data transfer application and sends the
// SessionEstablishment, reading back the SessionData (clause 8.3.3.1.2).
func (tp *tap) exchange(ctx context.Context) error {
	tp.exch = nfc.NewExchanger(tp.t, tp.cfg.Limits, tp.handover.Carriers.NFC)
	if err := tp.exch.Select(ctx); err != nil {
		return fmt.Errorf("selecting data transfer: %w", err)
	}
	reply, err := tp.exch.Exchange(ctx, tp.request)
	if err != nil {
		return fmt.Errorf("exchanging request: %w", err)
	}
	msg, err := tp.sess.Open(reply)
	if err != nil {
		return fmt.Errorf("decrypting response: %w", err)
	}
	if msg.Plaintext == nil {
		return fmt.Errorf("%w %d", ErrWalletStatus, msg.Status)
	}
	tp.response = msg.Plaintext
	return nil
}

// verify checks the DeviceResponse against the trust store, the clock, the
// session transcript and the ephemeral key (clause 9.1.2, 9.1.3).
func (tp *tap) verify(ctx context.Context) error {
	res, err := verify.Verify(tp.response, verify.Options{
		Trust:             tp.cfg.Trust,
		Now:               tp.cfg.Now(),
		SessionTranscript: tp.sess.Transcript().Bytes(),
		ReaderKey:         tp.sess.PrivateKey(),
	})
	if res == nil {
		return fmt.Errorf("verifying response: %w", err)
	}
	tp.out.Result = res
	return nil
}

// terminate ends the session with SessionData status 20 (clause 9.1.1.4).
func (tp *tap) terminate(ctx context.Context) error {
	msg, err := tp.sess.Terminate()
	if err != nil {
		return fmt.Errorf("encoding termination: %w", err)
	}
	if _, err := tp.exch.Exchange(ctx, msg); err != nil {
		return fmt.Errorf("sending termination: %w", err)
	}
	return nil
}

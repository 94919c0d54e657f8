package ble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// State characteristic values (ISO/IEC 18013-5 clause 8.3.3.1.1.5 and
// 8.3.3.1.1.7, per MPZ GattClient).
const (
	stateStart byte = 0x01 // GATT client: ready, the data transfer may start
	stateEnd   byte = 0x02 // either side: end of the session
)

// Defaults for the zero fields of [Config].
const (
	DefaultConnectTimeout = 30 * time.Second
	DefaultStartTimeout   = 10 * time.Second
	// DefaultMessageTimeout bounds one Send or Receive. An mdoc may hold its
	// response until the holder consents; 18013-5 asks sessions to survive
	// at least 300 s of inactivity (clause 9.1.1.4, as quoted by a public
	// implementation's notes; unconfirmed).
	DefaultMessageTimeout = 300 * time.Second
	// DefaultMaxMessageSize limits a received message (2 MiB).
	DefaultMaxMessageSize = 2 << 20
)

// Config is the connection set-up shared by [Serve] and [Dial].
type Config struct {
	// Mode selects the characteristic UUIDs and whether Ident is used.
	Mode Mode
	// Service is the 128-bit service UUID from the engagement: the one the
	// reader put in its Handover Request (negotiated central client mode),
	// the mdoc's Handover Select, or DeviceEngagement key 10 / 11.
	Service UUID
	// Address, for Dial only, restricts the scan to one advertiser
	// (DeviceEngagement BLE option key 20); nil accepts any.
	Address *Address
	// Ident is Ident(EDeviceKeyBytes), required in central client mode: the
	// GATT server (reader) serves it and the GATT client (mdoc) checks it.
	Ident []byte
	// MaxMessageSize limits each received message; 0 means
	// DefaultMaxMessageSize.
	MaxMessageSize int
	// ConnectTimeout bounds advertising and waiting for a connection (Serve)
	// or scanning, connecting and discovery (Dial).
	ConnectTimeout time.Duration
	// StartTimeout bounds the time from connection to State 0x01: waiting
	// for it (Serve), or the Ident read, subscriptions and the write (Dial).
	StartTimeout time.Duration
	// MessageTimeout bounds each Send, Receive and Close.
	MessageTimeout time.Duration
}

func (c *Config) check() error {
	if c.Mode != ModeCentralClient && c.Mode != ModePeripheralServer {
		return fmt.Errorf("ble: unknown mode %d", int(c.Mode))
	}
	if c.Service == (UUID{}) {
		return errors.New("ble: no service uuid")
	}
	if c.Mode == ModeCentralClient && len(c.Ident) != IdentSize {
		return fmt.Errorf("ble: central client mode needs a %d-byte ident, have %d", IdentSize, len(c.Ident))
	}
	if c.MaxMessageSize < 0 {
		return errors.New("ble: negative message size limit")
	}
	return nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// stepContext bounds ctx by d.
func stepContext(ctx context.Context, d, def time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, orDefault(d, def))
}

// stepErr wraps err for a step, adding ErrTimeout when a deadline expired.
func stepErr(step string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, ErrTimeout) {
		return fmt.Errorf("%s: %w: %w", step, ErrTimeout, err)
	}
	return fmt.Errorf("%s: %w", step, err)
}

// Conn is an established 18013-5 BLE session seen as a message transport:
// Send and Receive move whole messages, Close ends the session with State
// 0x02. One goroutine may Send while another Receives; concurrent Sends (or
// Receives) are serialised.
type Conn struct {
	mode    Mode
	chars   Characteristics
	server  ServerConn // set when this side is the GATT server
	client  ClientConn // set when this side is the GATT client
	timeout time.Duration

	sendMu sync.Mutex
	buf    []byte

	recvMu sync.Mutex
	rx     Reassembler

	mu        sync.Mutex
	ended     bool // State 0x02 seen or sent
	closed    bool
	closeErr  error
	chunksOut int
	chunksIn  int
}

func newConn(cfg *Config, s ServerConn, c ClientConn) *Conn {
	limit := cfg.MaxMessageSize
	if limit == 0 {
		limit = DefaultMaxMessageSize
	}
	return &Conn{
		mode:    cfg.Mode,
		chars:   cfg.Mode.Characteristics(),
		server:  s,
		client:  c,
		timeout: orDefault(cfg.MessageTimeout, DefaultMessageTimeout),
		rx:      Reassembler{Limit: limit},
	}
}

// Serve runs the GATT-server side of ISO/IEC 18013-5 clause 8.3.3.1.1: the
// reader in mdoc central client mode, or the mdoc in mdoc peripheral server
// mode. It publishes the mode's service (State, Client2Server, Server2Client,
// and in central client mode Ident with the value cfg.Ident), advertises
// cfg.Service, accepts one connection, and waits for the client to write
// State 0x01. Writes to Client2Server before that are a protocol error.
func Serve(ctx context.Context, p Peripheral, cfg Config) (*Conn, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	chars := cfg.Mode.Characteristics()
	svc := Service{UUID: cfg.Service, Characteristics: []CharacteristicSpec{
		{UUID: chars.State, Properties: PropNotify | PropWriteWithoutResponse},
		{UUID: chars.Client2Server, Properties: PropWriteWithoutResponse},
		{UUID: chars.Server2Client, Properties: PropNotify},
	}}
	if chars.HasIdent {
		svc.Characteristics = append(svc.Characteristics, CharacteristicSpec{
			UUID: chars.Ident, Properties: PropRead, Value: bytes.Clone(cfg.Ident),
		})
	}

	actx, cancel := stepContext(ctx, cfg.ConnectTimeout, DefaultConnectTimeout)
	sc, err := p.Accept(actx, svc)
	cancel()
	if err != nil {
		return nil, stepErr("ble: accepting connection", err)
	}

	sctx, cancel := stepContext(ctx, cfg.StartTimeout, DefaultStartTimeout)
	defer cancel()
	if err := waitStart(sctx, sc, chars); err != nil {
		sc.Close()
		return nil, stepErr("ble: waiting for start", err)
	}
	return newConn(&cfg, sc, nil), nil
}

// waitStart reads client writes until State 0x01.
func waitStart(ctx context.Context, sc ServerConn, chars Characteristics) error {
	for {
		v, err := sc.NextWrite(ctx)
		if err != nil {
			return err
		}
		switch v.Characteristic {
		case chars.State:
			switch {
			case bytes.Equal(v.Value, []byte{stateStart}):
				return nil
			case bytes.Equal(v.Value, []byte{stateEnd}):
				return ErrSessionEnded
			default:
				return fmt.Errorf("%w: state value %x", ErrProtocol, v.Value)
			}
		case chars.Client2Server:
			return fmt.Errorf("%w: data before state 0x01", ErrProtocol)
		}
		// Writes to other characteristics are ignored.
	}
}

// Dial runs the GATT-client side of ISO/IEC 18013-5 clause 8.3.3.1.1: the
// reader in mdoc peripheral server mode, or the mdoc in mdoc central client
// mode. It scans for cfg.Service (and cfg.Address when set), connects,
// discovers the mode's characteristics, in central client mode reads Ident
// and compares it with cfg.Ident ([ErrIdentMismatch]), subscribes to
// Server2Client and State, and writes State 0x01 (the order of MPZ
// GattClient).
func Dial(ctx context.Context, c Central, cfg Config) (*Conn, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	chars := cfg.Mode.Characteristics()

	cctx, cancel := stepContext(ctx, cfg.ConnectTimeout, DefaultConnectTimeout)
	cc, err := connect(cctx, c, &cfg, chars)
	cancel()
	if err != nil {
		return nil, err
	}

	sctx, cancel := stepContext(ctx, cfg.StartTimeout, DefaultStartTimeout)
	defer cancel()
	if err := start(sctx, cc, &cfg, chars); err != nil {
		cc.Close()
		return nil, err
	}
	return newConn(&cfg, nil, cc), nil
}

func connect(ctx context.Context, c Central, cfg *Config, chars Characteristics) (ClientConn, error) {
	adv, err := c.Scan(ctx, ScanFilter{Service: cfg.Service, Address: cfg.Address})
	if err != nil {
		return nil, stepErr("ble: scanning", err)
	}
	cc, err := c.Connect(ctx, adv)
	if err != nil {
		return nil, stepErr("ble: connecting", err)
	}
	if err := cc.Discover(ctx, cfg.Service, chars.All()); err != nil {
		cc.Close()
		return nil, stepErr("ble: discovering service", err)
	}
	return cc, nil
}

func start(ctx context.Context, cc ClientConn, cfg *Config, chars Characteristics) error {
	if chars.HasIdent {
		id, err := cc.Read(ctx, chars.Ident)
		if err != nil {
			return stepErr("ble: reading ident", err)
		}
		if !bytes.Equal(id, cfg.Ident) {
			return fmt.Errorf("ble: checking ident: %w: got %x, want %x", ErrIdentMismatch, id, cfg.Ident)
		}
	}
	if err := cc.Subscribe(ctx, chars.Server2Client); err != nil {
		return stepErr("ble: subscribing to server2client", err)
	}
	if err := cc.Subscribe(ctx, chars.State); err != nil {
		return stepErr("ble: subscribing to state", err)
	}
	if err := cc.Write(ctx, chars.State, []byte{stateStart}); err != nil {
		return stepErr("ble: writing state start", err)
	}
	return nil
}

// Mode reports the BLE mode of the session.
func (c *Conn) Mode() Mode { return c.mode }

// MTU reports the ATT MTU currently negotiated.
func (c *Conn) MTU() int {
	if c.server != nil {
		return c.server.MTU()
	}
	return c.client.MTU()
}

// Chunks reports how many chunks were sent and received so far.
func (c *Conn) Chunks() (sent, received int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.chunksOut, c.chunksIn
}

func (c *Conn) isEnded() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ended
}

// outbound writes (client) or notifies (server) one value.
func (c *Conn) outbound(ctx context.Context, char UUID, v []byte) error {
	if c.server != nil {
		return c.server.Notify(ctx, char, v)
	}
	return c.client.Write(ctx, char, v)
}

// inbound returns the next value from the peer.
func (c *Conn) inbound(ctx context.Context) (CharValue, error) {
	if c.server != nil {
		return c.server.NextWrite(ctx)
	}
	return c.client.NextNotification(ctx)
}

// Send sends one message, split into chunks for the MTU of the moment
// (ISO/IEC 18013-5 clause 8.3.3.1.1.6): as Server2Client notifications from
// the GATT server, or Client2Server writes from the GATT client. It is bounded
// by the message timeout. After State 0x02 it returns [ErrSessionEnded].
func (c *Conn) Send(ctx context.Context, msg []byte) error {
	c.sendMu.Lock()
	defer c.sendMu.Unlock()
	if c.isEnded() {
		return fmt.Errorf("ble: sending message: %w", ErrSessionEnded)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	char := c.chars.Client2Server
	if c.server != nil {
		char = c.chars.Server2Client
	}
	mtu := c.MTU()
	if cap(c.buf) < MaxChunkSize(mtu) {
		c.buf = make([]byte, 0, MaxChunkSize(mtu))
	}
	sent := 0
	err := forEachChunk(msg, mtu, c.buf, func(chunk []byte) error {
		if err := c.outbound(ctx, char, chunk); err != nil {
			return err
		}
		sent++
		return nil
	})
	c.mu.Lock()
	c.chunksOut += sent
	c.mu.Unlock()
	if err != nil {
		return stepErr(fmt.Sprintf("ble: sending message (chunk %d of %d)", sent+1, NumChunks(len(msg), mtu)), err)
	}
	return nil
}

// Receive returns the next whole message from the peer, bounded by the
// message timeout. It returns an error wrapping [ErrSessionEnded] when the
// peer writes State 0x02, [ErrDisconnected] when the link drops (also in the
// middle of a message), [ErrMessageTooLarge] or [ErrProtocol] for a bad
// chunk, and [ErrTimeout] when no complete message arrives in time.
func (c *Conn) Receive(ctx context.Context) ([]byte, error) {
	c.recvMu.Lock()
	defer c.recvMu.Unlock()
	if c.isEnded() {
		return nil, fmt.Errorf("ble: receiving message: %w", ErrSessionEnded)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	data := c.chars.Server2Client
	if c.server != nil {
		data = c.chars.Client2Server
	}
	for {
		v, err := c.inbound(ctx)
		if err != nil {
			if c.rx.InProgress() {
				return nil, stepErr(fmt.Sprintf("ble: receiving message (after %d bytes)", c.rx.Buffered()), err)
			}
			return nil, stepErr("ble: receiving message", err)
		}
		switch v.Characteristic {
		case c.chars.State:
			switch {
			case bytes.Equal(v.Value, []byte{stateEnd}):
				c.mu.Lock()
				c.ended = true
				c.mu.Unlock()
				c.rx.Reset()
				return nil, fmt.Errorf("ble: receiving message: %w", ErrSessionEnded)
			case c.server != nil && bytes.Equal(v.Value, []byte{stateStart}):
				// A repeated start from the client changes nothing.
			default:
				return nil, fmt.Errorf("ble: receiving message: %w: state value %x", ErrProtocol, v.Value)
			}
		case data:
			c.mu.Lock()
			c.chunksIn++
			c.mu.Unlock()
			msg, done, err := c.rx.Add(v.Value)
			if err != nil {
				return nil, fmt.Errorf("ble: receiving message: %w", err)
			}
			if done {
				return msg, nil
			}
		}
		// Values of other characteristics are ignored.
	}
}

// Close ends the session (ISO/IEC 18013-5 clause 8.3.3.1.1.7): unless the
// peer already did, it sends State 0x02 (a notification from the GATT
// server, a write from the GATT client), then disconnects. A link already
// down is not an error. Close may be called more than once.
func (c *Conn) Close(ctx context.Context) error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.closeErr
	}
	c.closed = true
	sendEnd := !c.ended
	c.ended = true
	c.mu.Unlock()

	var err error
	if sendEnd {
		ctx, cancel := context.WithTimeout(ctx, c.timeout)
		err = c.outbound(ctx, c.chars.State, []byte{stateEnd})
		cancel()
		if errors.Is(err, ErrDisconnected) {
			err = nil
		} else if err != nil {
			err = stepErr("ble: writing state end", err)
		}
	}
	var cerr error
	if c.server != nil {
		cerr = c.server.Close()
	} else {
		cerr = c.client.Close()
	}
	if cerr != nil && !errors.Is(cerr, ErrDisconnected) && err == nil {
		err = fmt.Errorf("ble: disconnecting: %w", cerr)
	}
	c.mu.Lock()
	c.closeErr = err
	c.mu.Unlock()
	return err
}

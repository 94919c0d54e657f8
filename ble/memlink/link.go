package memlink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/idreader/idreader/ble"
)

// Direction is the way a value crosses the link.
type Direction int

const (
	// ToServer is a GATT client write.
	ToServer Direction = iota
	// ToClient is a GATT server notification or a read response.
	ToClient
)

// String names the direction.
func (d Direction) String() string {
	if d == ToServer {
		return "client→server"
	}
	return "server→client"
}

// Action is what a [Fault] does with a value.
type Action int

const (
	// Deliver passes the (possibly rewritten) value on.
	Deliver Action = iota
	// Drop loses the value silently, as a stalled link would.
	Drop
	// Disconnect drops the connection instead of delivering the value.
	Disconnect
)

// Fault sees every value crossing the link (writes, notifications, read
// responses) after the link checked it against the MTU, and returns the value
// to use (it may return a rewritten, longer or shorter one) and an action.
// Faults run one at a time, in order, so they may keep counters.
type Fault func(dir Direction, char ble.UUID, value []byte) ([]byte, Action)

// Config configures a [Link].
type Config struct {
	// MTU is the ATT MTU both sides see, 23..517; 0 means 517.
	MTU int
	// Address is the peripheral's device address.
	Address ble.Address
	// Faults run on every value, in order.
	Faults []Fault
}

// Link is an in-memory BLE link between one peripheral and one central.
// Each Accept/Connect pair makes one connection.
type Link struct {
	cfg Config

	mu       sync.Mutex
	adv      *ble.Service  // service being advertised, nil when none
	advCh    chan struct{} // closed when adv changes
	accepted chan *conn    // Connect hands the new connection to Accept
	current  *conn

	faultMu sync.Mutex
}

// New returns a link; it fails when cfg.MTU is outside 23..517.
func New(cfg Config) (*Link, error) {
	if cfg.MTU == 0 {
		cfg.MTU = ble.MaxMTU
	}
	if cfg.MTU < ble.MinMTU || cfg.MTU > ble.MaxMTU {
		return nil, fmt.Errorf("memlink: mtu %d outside %d..%d", cfg.MTU, ble.MinMTU, ble.MaxMTU)
	}
	cfg.Faults = slices.Clone(cfg.Faults)
	return &Link{cfg: cfg, advCh: make(chan struct{}), accepted: make(chan *conn, 1)}, nil
}

// Peripheral returns the GATT-server end of the link.
func (l *Link) Peripheral() ble.Peripheral { return peripheral{l} }

// Central returns the GATT-client end of the link.
func (l *Link) Central() ble.Central { return central{l} }

// Disconnect drops the current connection, if any, as a radio loss would.
func (l *Link) Disconnect() {
	l.mu.Lock()
	c := l.current
	l.mu.Unlock()
	if c != nil {
		c.disconnect()
	}
}

func (l *Link) setAdv(s *ble.Service) {
	l.adv = s
	close(l.advCh)
	l.advCh = make(chan struct{})
}

type peripheral struct{ l *Link }

// Accept implements ble.Peripheral.
func (p peripheral) Accept(ctx context.Context, svc ble.Service) (ble.ServerConn, error) {
	l := p.l
	svc.Characteristics = slices.Clone(svc.Characteristics)
	l.mu.Lock()
	if l.adv != nil {
		l.mu.Unlock()
		return nil, errors.New("memlink: already advertising")
	}
	l.setAdv(&svc)
	l.mu.Unlock()
	select {
	case c := <-l.accepted:
		return serverConn{c}, nil
	case <-ctx.Done():
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.adv == &svc {
		l.setAdv(nil)
		return nil, ctx.Err()
	}
	// A central connected just as ctx ended.
	return serverConn{<-l.accepted}, nil
}

type central struct{ l *Link }

func (l *Link) matches(f ble.ScanFilter) bool {
	if l.adv == nil || l.adv.UUID != f.Service {
		return false
	}
	return f.Address == nil || *f.Address == l.cfg.Address
}

// Scan implements ble.Central.
func (c central) Scan(ctx context.Context, f ble.ScanFilter) (ble.Advertisement, error) {
	l := c.l
	for {
		l.mu.Lock()
		if l.matches(f) {
			adv := ble.Advertisement{Address: l.cfg.Address, Services: []ble.UUID{l.adv.UUID}}
			l.mu.Unlock()
			return adv, nil
		}
		ch := l.advCh
		l.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ble.Advertisement{}, ctx.Err()
		}
	}
}

// Connect implements ble.Central.
func (c central) Connect(ctx context.Context, adv ble.Advertisement) (ble.ClientConn, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	l := c.l
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.adv == nil || adv.Address != l.cfg.Address {
		return nil, fmt.Errorf("memlink: connecting to %v: %w", adv.Address, ble.ErrNotFound)
	}
	cn := &conn{
		link:       l,
		svc:        *l.adv,
		done:       make(chan struct{}),
		subscribed: make(map[ble.UUID]bool),
	}
	cn.toServer.sig = make(chan struct{}, 1)
	cn.toClient.sig = make(chan struct{}, 1)
	l.current = cn
	l.adv = nil
	close(l.advCh)
	l.advCh = make(chan struct{})
	l.accepted <- cn
	return clientConn{cn}, nil
}

// queue is an unbounded FIFO of values with a wake-up signal.
type queue struct {
	mu    sync.Mutex
	items []ble.CharValue
	sig   chan struct{}
}

func (q *queue) push(v ble.CharValue) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.sig <- struct{}{}:
	default:
	}
}

// pop returns queued values first, then ErrDisconnected once done is closed.
func (q *queue) pop(ctx context.Context, done <-chan struct{}) (ble.CharValue, error) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			v := q.items[0]
			q.items[0] = ble.CharValue{}
			q.items = q.items[1:]
			q.mu.Unlock()
			return v, nil
		}
		q.mu.Unlock()
		select {
		case <-q.sig:
		case <-done:
			q.mu.Lock()
			n := len(q.items)
			q.mu.Unlock()
			if n == 0 {
				return ble.CharValue{}, fmt.Errorf("memlink: link down: %w", ble.ErrDisconnected)
			}
		case <-ctx.Done():
			return ble.CharValue{}, ctx.Err()
		}
	}
}

// conn is one connection; serverConn and clientConn are its two ends.
type conn struct {
	link     *Link
	svc      ble.Service
	done     chan struct{}
	doneOnce sync.Once
	toServer queue
	toClient queue

	mu         sync.Mutex
	discovered bool
	subscribed map[ble.UUID]bool
}

func (c *conn) disconnect() { c.doneOnce.Do(func() { close(c.done) }) }

func (c *conn) isDown() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

func (c *conn) spec(char ble.UUID) (ble.CharacteristicSpec, bool) {
	for _, s := range c.svc.Characteristics {
		if s.UUID == char {
			return s, true
		}
	}
	return ble.CharacteristicSpec{}, false
}

func (c *conn) mtu() int { return c.link.cfg.MTU }

// cross checks a value against the MTU and runs the faults on it.
func (c *conn) cross(ctx context.Context, dir Direction, char ble.UUID, value []byte) ([]byte, Action, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if c.isDown() {
		return nil, 0, fmt.Errorf("memlink: link down: %w", ble.ErrDisconnected)
	}
	if max := c.mtu() - 3; len(value) > max {
		return nil, 0, fmt.Errorf("memlink: %d-byte value exceeds MTU %d − 3", len(value), c.mtu())
	}
	v := bytes.Clone(value)
	if v == nil {
		v = []byte{}
	}
	l := c.link
	l.faultMu.Lock()
	defer l.faultMu.Unlock()
	act := Deliver
	for _, f := range l.cfg.Faults {
		v, act = f(dir, char, v)
		if act != Deliver {
			break
		}
	}
	if act == Disconnect {
		c.disconnect()
		return nil, act, fmt.Errorf("memlink: link dropped by fault: %w", ble.ErrDisconnected)
	}
	return v, act, nil
}

type serverConn struct{ c *conn }

// NextWrite implements ble.ServerConn.
func (s serverConn) NextWrite(ctx context.Context) (ble.CharValue, error) {
	return s.c.toServer.pop(ctx, s.c.done)
}

// Notify implements ble.ServerConn.
func (s serverConn) Notify(ctx context.Context, char ble.UUID, value []byte) error {
	c := s.c
	sp, ok := c.spec(char)
	if !ok || sp.Properties&ble.PropNotify == 0 {
		return fmt.Errorf("memlink: characteristic %v does not notify", char)
	}
	c.mu.Lock()
	sub := c.subscribed[char]
	c.mu.Unlock()
	if !sub {
		return fmt.Errorf("memlink: notify on %v without subscription", char)
	}
	v, act, err := c.cross(ctx, ToClient, char, value)
	if err != nil || act == Drop {
		return err
	}
	c.toClient.push(ble.CharValue{Characteristic: char, Value: v})
	return nil
}

// MTU implements ble.ServerConn.
func (s serverConn) MTU() int { return s.c.mtu() }

// Disconnected implements ble.ServerConn.
func (s serverConn) Disconnected() <-chan struct{} { return s.c.done }

// Close implements ble.ServerConn.
func (s serverConn) Close() error { s.c.disconnect(); return nil }

type clientConn struct{ c *conn }

// Discover implements ble.ClientConn.
func (cc clientConn) Discover(ctx context.Context, service ble.UUID, chars []ble.UUID) error {
	c := cc.c
	if err := ctx.Err(); err != nil {
		return err
	}
	if c.isDown() {
		return fmt.Errorf("memlink: link down: %w", ble.ErrDisconnected)
	}
	if c.svc.UUID != service {
		return fmt.Errorf("memlink: service %v: %w", service, ble.ErrNotFound)
	}
	for _, u := range chars {
		if _, ok := c.spec(u); !ok {
			return fmt.Errorf("memlink: characteristic %v: %w", u, ble.ErrNotFound)
		}
	}
	c.mu.Lock()
	c.discovered = true
	c.mu.Unlock()
	return nil
}

func (cc clientConn) discovered(char ble.UUID, prop ble.Property) (ble.CharacteristicSpec, error) {
	c := cc.c
	c.mu.Lock()
	d := c.discovered
	c.mu.Unlock()
	if !d {
		return ble.CharacteristicSpec{}, errors.New("memlink: service not discovered")
	}
	sp, ok := c.spec(char)
	if !ok {
		return sp, fmt.Errorf("memlink: characteristic %v: %w", char, ble.ErrNotFound)
	}
	if sp.Properties&prop == 0 {
		return sp, fmt.Errorf("memlink: characteristic %v lacks property %#x", char, prop)
	}
	return sp, nil
}

// Subscribe implements ble.ClientConn.
func (cc clientConn) Subscribe(ctx context.Context, char ble.UUID) error {
	if _, err := cc.discovered(char, ble.PropNotify); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if cc.c.isDown() {
		return fmt.Errorf("memlink: link down: %w", ble.ErrDisconnected)
	}
	cc.c.mu.Lock()
	cc.c.subscribed[char] = true
	cc.c.mu.Unlock()
	return nil
}

// NextNotification implements ble.ClientConn.
func (cc clientConn) NextNotification(ctx context.Context) (ble.CharValue, error) {
	return cc.c.toClient.pop(ctx, cc.c.done)
}

// Write implements ble.ClientConn.
func (cc clientConn) Write(ctx context.Context, char ble.UUID, value []byte) error {
	if _, err := cc.discovered(char, ble.PropWrite|ble.PropWriteWithoutResponse); err != nil {
		return err
	}
	v, act, err := cc.c.cross(ctx, ToServer, char, value)
	if err != nil || act == Drop {
		return err
	}
	cc.c.toServer.push(ble.CharValue{Characteristic: char, Value: v})
	return nil
}

// Read implements ble.ClientConn. A dropped read blocks until ctx ends or
// the link drops, as an unanswered ATT request would.
func (cc clientConn) Read(ctx context.Context, char ble.UUID) ([]byte, error) {
	sp, err := cc.discovered(char, ble.PropRead)
	if err != nil {
		return nil, err
	}
	v, act, err := cc.c.cross(ctx, ToClient, char, sp.Value)
	if err != nil {
		return nil, err
	}
	if act == Drop {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-cc.c.done:
			return nil, fmt.Errorf("memlink: link down: %w", ble.ErrDisconnected)
		}
	}
	return v, nil
}

// MTU implements ble.ClientConn.
func (cc clientConn) MTU() int { return cc.c.mtu() }

// Disconnected implements ble.ClientConn.
func (cc clientConn) Disconnected() <-chan struct{} { return cc.c.done }

// Close implements ble.ClientConn.
func (cc clientConn) Close() error { cc.c.disconnect(); return nil }

package ble_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/idreader/idreader/ble"
	"github.com/idreader/idreader/ble/memlink"
)

// serviceUUID is the Annex D Handover Request UUID.
var serviceUUID = ble.UUID{0x3a, 0x82, 0xd4, 0x55, 0xd5, 0xfc, 0x4d, 0xb3, 0xbe, 0xa0, 0x6f, 0xd2, 0xf6, 0xff, 0x32, 0xc8}

var linkAddr = ble.Address{0x28, 0x28, 0x37, 0x8b, 0x12, 0x28}

func annexIdent(t testing.TB) []byte {
	t.Helper()
	raw, err := os.ReadFile("../testdata/annexd/e_device_key_bytes.hex")
	if err != nil {
		t.Fatal(err)
	}
	de, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatal(err)
	}
	id, err := ble.Ident(de)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func config(t testing.TB, mode ble.Mode) ble.Config {
	return ble.Config{
		Mode:           mode,
		Service:        serviceUUID,
		Ident:          annexIdent(t),
		ConnectTimeout: 5 * time.Second,
		StartTimeout:   5 * time.Second,
		MessageTimeout: 5 * time.Second,
	}
}

// pair connects both sides: the GATT server with Serve, the GATT client with
// Dial, and returns them as reader and wallet for the mode. serverCfg and
// clientCfg adjust the configurations.
func pair(t testing.TB, link *memlink.Link, mode ble.Mode, adjust func(server, client *ble.Config)) (reader, wallet *ble.Conn, serverErr, clientErr error) {
	t.Helper()
	scfg, ccfg := config(t, mode), config(t, mode)
	if adjust != nil {
		adjust(&scfg, &ccfg)
	}
	ctx := context.Background()
	type res struct {
		c   *ble.Conn
		err error
	}
	sch := make(chan res, 1)
	go func() {
		c, err := ble.Serve(ctx, link.Peripheral(), scfg)
		sch <- res{c, err}
	}()
	client, clientErr := ble.Dial(ctx, link.Central(), ccfg)
	s := <-sch
	server, serverErr := s.c, s.err
	if mode == ble.ModeCentralClient {
		return server, client, serverErr, clientErr
	}
	return client, server, serverErr, clientErr
}

func newLink(t testing.TB, mtu int, faults ...memlink.Fault) *memlink.Link {
	t.Helper()
	l, err := memlink.New(memlink.Config{MTU: mtu, Address: linkAddr, Faults: faults})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var modes = []ble.Mode{ble.ModeCentralClient, ble.ModePeripheralServer}

func TestEndToEnd(t *testing.T) {
	sizes := []int{1, 19, 20, 181, 182, 511, 512, 3587, 30 * 1024, 64 * 1024}
	for _, mode := range modes {
		for _, mtu := range []int{23, 185, 517} {
			t.Run(fmt.Sprintf("%s/mtu=%d", mode, mtu), func(t *testing.T) {
				reader, wallet, serr, cerr := pair(t, newLink(t, mtu), mode, nil)
				if serr != nil || cerr != nil {
					t.Fatalf("set-up: server %v, client %v", serr, cerr)
				}
				if reader.MTU() != mtu || wallet.Mode() != mode {
					t.Fatalf("MTU %d mode %v", reader.MTU(), wallet.Mode())
				}
				ctx := context.Background()
				for _, n := range sizes {
					req := bytes.Repeat([]byte{byte(n)}, n)
					req[0] = 0xa2
					if err := reader.Send(ctx, req); err != nil {
						t.Fatalf("reader send %d: %v", n, err)
					}
					got, err := wallet.Receive(ctx)
					if err != nil || !bytes.Equal(got, req) {
						t.Fatalf("wallet receive %d: %d bytes, %v", n, len(got), err)
					}
					resp := append(bytes.Clone(req), 0x01)
					if err := wallet.Send(ctx, resp); err != nil {
						t.Fatalf("wallet send %d: %v", n, err)
					}
					got, err = reader.Receive(ctx)
					if err != nil || !bytes.Equal(got, resp) {
						t.Fatalf("reader receive %d: %d bytes, %v", n, len(got), err)
					}
				}
				sent, _ := reader.Chunks()
				want := 0
				for _, n := range sizes {
					want += ble.NumChunks(n, mtu)
				}
				if sent != want {
					t.Errorf("reader sent %d chunks, want %d", sent, want)
				}
				// The reader ends the session with State 0x02.
				if err := reader.Close(ctx); err != nil {
					t.Fatalf("reader close: %v", err)
				}
				if _, err := wallet.Receive(ctx); !errors.Is(err, ble.ErrSessionEnded) {
					t.Fatalf("wallet receive after end: %v", err)
				}
				if err := wallet.Send(ctx, []byte{1}); !errors.Is(err, ble.ErrSessionEnded) {
					t.Fatalf("wallet send after end: %v", err)
				}
				if err := wallet.Close(ctx); err != nil {
					t.Fatalf("wallet close: %v", err)
				}
				if err := reader.Close(ctx); err != nil {
					t.Fatalf("second close: %v", err)
				}
			})
		}
	}
}

func TestWalletEndsSession(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			reader, wallet, serr, cerr := pair(t, newLink(t, 185), mode, nil)
			if serr != nil || cerr != nil {
				t.Fatal(serr, cerr)
			}
			ctx := context.Background()
			if err := wallet.Close(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := reader.Receive(ctx); !errors.Is(err, ble.ErrSessionEnded) {
				t.Fatalf("reader receive: %v", err)
			}
			if err := reader.Close(ctx); err != nil {
				t.Fatalf("reader close after peer end: %v", err)
			}
		})
	}
}

func TestAddressFilter(t *testing.T) {
	other := ble.Address{1, 2, 3, 4, 5, 6}
	for _, tt := range []struct {
		addr *ble.Address
		ok   bool
	}{{&linkAddr, true}, {&other, false}} {
		_, _, serr, cerr := pair(t, newLink(t, 185), ble.ModePeripheralServer, func(s, c *ble.Config) {
			c.Address = tt.addr
			s.ConnectTimeout, c.ConnectTimeout = 50*time.Millisecond, 50*time.Millisecond
		})
		if tt.ok && (serr != nil || cerr != nil) {
			t.Fatalf("matching address: %v %v", serr, cerr)
		}
		if !tt.ok && (!errors.Is(cerr, ble.ErrTimeout) || !errors.Is(serr, ble.ErrTimeout)) {
			t.Fatalf("other address: server %v, client %v", serr, cerr)
		}
	}
}

func TestWrongIdent(t *testing.T) {
	_, _, serr, cerr := pair(t, newLink(t, 185, memlink.WrongIdent()), ble.ModeCentralClient, nil)
	if !errors.Is(cerr, ble.ErrIdentMismatch) {
		t.Fatalf("wallet: %v, want ErrIdentMismatch", cerr)
	}
	// The wallet hung up, so the reader never sees State 0x01.
	if !errors.Is(serr, ble.ErrDisconnected) {
		t.Fatalf("reader: %v, want ErrDisconnected", serr)
	}
	// The reader serving another session's Ident is the same failure.
	_, _, _, cerr = pair(t, newLink(t, 185), ble.ModeCentralClient, func(s, c *ble.Config) {
		s.Ident = make([]byte, ble.IdentSize)
	})
	if !errors.Is(cerr, ble.ErrIdentMismatch) {
		t.Fatalf("wallet: %v, want ErrIdentMismatch", cerr)
	}
}

func TestConfigErrors(t *testing.T) {
	l := newLink(t, 185)
	ctx := context.Background()
	for name, cfg := range map[string]ble.Config{
		"no mode":     {Service: serviceUUID},
		"no service":  {Mode: ble.ModePeripheralServer},
		"no ident":    {Mode: ble.ModeCentralClient, Service: serviceUUID},
		"short ident": {Mode: ble.ModeCentralClient, Service: serviceUUID, Ident: []byte{1}},
		"neg limit":   {Mode: ble.ModePeripheralServer, Service: serviceUUID, MaxMessageSize: -1},
	} {
		if _, err := ble.Serve(ctx, l.Peripheral(), cfg); err == nil {
			t.Errorf("%s: Serve succeeded", name)
		}
		if _, err := ble.Dial(ctx, l.Central(), cfg); err == nil {
			t.Errorf("%s: Dial succeeded", name)
		}
	}
	if _, err := memlink.New(memlink.Config{MTU: 22}); err == nil {
		t.Error("MTU 22 accepted")
	}
	if _, err := memlink.New(memlink.Config{MTU: 518}); err == nil {
		t.Error("MTU 518 accepted")
	}
}

// rawClient connects to a Serve in progress without the 18013-5 set-up.
func rawClient(t *testing.T, l *memlink.Link, mode ble.Mode) ble.ClientConn {
	t.Helper()
	ctx := context.Background()
	adv, err := l.Central().Scan(ctx, ble.ScanFilter{Service: serviceUUID})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := l.Central().Connect(ctx, adv)
	if err != nil {
		t.Fatal(err)
	}
	if err := cc.Discover(ctx, serviceUUID, mode.Characteristics().All()); err != nil {
		t.Fatal(err)
	}
	return cc
}

func TestServeStartErrors(t *testing.T) {
	ctx := context.Background()
	cfg := config(t, ble.ModeCentralClient)
	cfg.ConnectTimeout = 20 * time.Millisecond
	cfg.StartTimeout = 50 * time.Millisecond
	chars := cfg.Mode.Characteristics()

	// Nobody connects.
	if _, err := ble.Serve(ctx, newLink(t, 185).Peripheral(), cfg); !errors.Is(err, ble.ErrTimeout) {
		t.Fatalf("no central: %v", err)
	}
	cfg.ConnectTimeout = 5 * time.Second
	for name, tt := range map[string]struct {
		write func(cc ble.ClientConn)
		want  error
	}{
		"no start":          {func(ble.ClientConn) {}, ble.ErrTimeout},
		"data before start": {func(cc ble.ClientConn) { cc.Write(ctx, chars.Client2Server, []byte{0, 1}) }, ble.ErrProtocol},
		"bad state":         {func(cc ble.ClientConn) { cc.Write(ctx, chars.State, []byte{7}) }, ble.ErrProtocol},
		"end before start":  {func(cc ble.ClientConn) { cc.Write(ctx, chars.State, []byte{2}) }, ble.ErrSessionEnded},
		"hang up":           {func(cc ble.ClientConn) { cc.Close() }, ble.ErrDisconnected},
	} {
		t.Run(name, func(t *testing.T) {
			l := newLink(t, 185)
			errc := make(chan error, 1)
			go func() { _, err := ble.Serve(ctx, l.Peripheral(), cfg); errc <- err }()
			cc := rawClient(t, l, cfg.Mode)
			defer cc.Close()
			// The Ident characteristic is served with the configured value.
			if id, err := cc.Read(ctx, chars.Ident); err != nil || !bytes.Equal(id, cfg.Ident) {
				t.Fatalf("ident read: %x %v", id, err)
			}
			tt.write(cc)
			if err := <-errc; !errors.Is(err, tt.want) {
				t.Fatalf("Serve: %v, want %v", err, tt.want)
			}
		})
	}
}

// TestFaults runs each fault on the reader's request (reader → wallet) and
// on the wallet's response (wallet → reader), in both modes.
func TestFaults(t *testing.T) {
	const big = 30 * 1024
	tests := []struct {
		name   string
		fault  func() memlink.Fault
		size   int
		limit  int
		recvTO time.Duration
		// sendErr is the sender's expected error, nil for none.
		sendErr, recvErr error
	}{
		{"disconnect mid-message", func() memlink.Fault { return memlink.DisconnectAfter(5000) }, big, 0, 0, ble.ErrDisconnected, ble.ErrDisconnected},
		{"disconnect at first chunk", func() memlink.Fault { return memlink.DisconnectAfter(0) }, big, 0, 0, ble.ErrDisconnected, ble.ErrDisconnected},
		{"stall", func() memlink.Fault { return memlink.StallAfter(3000) }, big, 0, 100 * time.Millisecond, nil, ble.ErrTimeout},
		{"oversize chunk", func() memlink.Fault { return memlink.OversizeChunks(600) }, big, 0, 0, nil, ble.ErrProtocol},
		{"garbage lead byte", func() memlink.Fault { return memlink.LeadByte(0x5a) }, big, 0, 0, nil, ble.ErrProtocol},
		{"message too large", nil, big, big - 1, 0, nil, ble.ErrMessageTooLarge},
	}
	for _, mode := range modes {
		for _, dir := range []string{"request", "response"} {
			for _, tt := range tests {
				t.Run(fmt.Sprintf("%s/%s/%s", mode, dir, tt.name), func(t *testing.T) {
					// Faults on data count both directions; the response
					// case first moves a small request cleanly.
					var faults []memlink.Fault
					if tt.fault != nil {
						faults = append(faults, skipFirst(tt.fault(), dir == "response"))
					}
					reader, wallet, serr, cerr := pair(t, newLink(t, 185, faults...), mode, func(s, c *ble.Config) {
						for _, cfg := range []*ble.Config{s, c} {
							cfg.MaxMessageSize = tt.limit
							if tt.recvTO > 0 {
								cfg.MessageTimeout = tt.recvTO
							}
						}
					})
					if serr != nil || cerr != nil {
						t.Fatal(serr, cerr)
					}
					ctx := context.Background()
					from, to := reader, wallet
					if dir == "response" {
						if err := reader.Send(ctx, []byte("request")); err != nil {
							t.Fatal(err)
						}
						if _, err := wallet.Receive(ctx); err != nil {
							t.Fatal(err)
						}
						from, to = wallet, reader
					}
					err := from.Send(ctx, pattern(tt.size))
					if tt.sendErr == nil && err != nil || tt.sendErr != nil && !errors.Is(err, tt.sendErr) {
						t.Fatalf("Send: %v, want %v", err, tt.sendErr)
					}
					_, err = to.Receive(ctx)
					if !errors.Is(err, tt.recvErr) {
						t.Fatalf("Receive: %v, want %v", err, tt.recvErr)
					}
					t.Log(err)
					from.Close(ctx)
					to.Close(ctx)
				})
			}
		}
	}
}

// skipFirst lets the first complete message (up to and including its 0x00
// chunk) through untouched when skip is set.
func skipFirst(f memlink.Fault, skip bool) memlink.Fault {
	passed := !skip
	return func(dir memlink.Direction, char ble.UUID, v []byte) ([]byte, memlink.Action) {
		cs, ps := ble.ModeCentralClient.Characteristics(), ble.ModePeripheralServer.Characteristics()
		data := char == cs.Client2Server || char == cs.Server2Client || char == ps.Client2Server || char == ps.Server2Client
		if !passed && data {
			if len(v) > 0 && v[0] == 0 {
				passed = true
			}
			return v, memlink.Deliver
		}
		return f(dir, char, v)
	}
}

func pattern(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 13)
	}
	return b
}

func TestDisconnectDuringReceive(t *testing.T) {
	l := newLink(t, 23)
	reader, wallet, serr, cerr := pair(t, l, ble.ModeCentralClient, nil)
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	ctx := context.Background()
	errc := make(chan error, 1)
	go func() { _, err := wallet.Receive(ctx); errc <- err }()
	l.Disconnect()
	if err := <-errc; !errors.Is(err, ble.ErrDisconnected) {
		t.Fatalf("Receive: %v", err)
	}
	if err := reader.Send(ctx, []byte{1}); !errors.Is(err, ble.ErrDisconnected) {
		t.Fatalf("Send: %v", err)
	}
	// Close on a dead link is not an error.
	if err := reader.Close(ctx); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

func TestCancel(t *testing.T) {
	reader, _, serr, cerr := pair(t, newLink(t, 185), ble.ModePeripheralServer, nil)
	if serr != nil || cerr != nil {
		t.Fatal(serr, cerr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := reader.Receive(ctx); !errors.Is(err, context.Canceled) || errors.Is(err, ble.ErrTimeout) {
		t.Fatalf("Receive: %v", err)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer dcancel()
	if _, err := reader.Receive(dctx); !errors.Is(err, ble.ErrTimeout) {
		t.Fatalf("Receive with caller deadline: %v", err)
	}
}

// BenchmarkTransfer30KB moves a 30 KB message (a DeviceResponse with a
// portrait) from the wallet to the reader over the in-memory link.
func BenchmarkTransfer30KB(b *testing.B) {
	msg := pattern(30 * 1024)
	for _, mode := range modes {
		for _, mtu := range []int{23, 185, 517} {
			b.Run(fmt.Sprintf("%s/mtu=%d", map[ble.Mode]string{ble.ModeCentralClient: "central", ble.ModePeripheralServer: "peripheral"}[mode], mtu), func(b *testing.B) {
				reader, wallet, serr, cerr := pair(b, newLink(b, mtu), mode, nil)
				if serr != nil || cerr != nil {
					b.Fatal(serr, cerr)
				}
				ctx := context.Background()
				b.SetBytes(int64(len(msg)))
				b.ReportAllocs()
				for b.Loop() {
					if err := wallet.Send(ctx, msg); err != nil {
						b.Fatal(err)
					}
					if _, err := reader.Receive(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(ble.NumChunks(len(msg), mtu)), "chunks/op")
			})
		}
	}
}

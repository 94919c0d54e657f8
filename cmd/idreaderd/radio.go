package main

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/idreader/idreader/ble/bluez"
	"github.com/idreader/idreader/ble/memlink"
	"github.com/idreader/idreader/terminal"
)

// radioRetry is the least time between two attempts to open a BlueZ adapter
// that failed: the readers ask for their radio at every tap, and a missing
// adapter must not slow their NFC taps down.
const radioRetry = 10 * time.Second

// radio is a BlueZ adapter shared by the readers that name it. It is opened
// at start and, when that fails (no D-Bus, no bluetoothd, no adapter),
// again on a later tap, at most every radioRetry.
type radio struct {
	adapter string
	now     func() time.Time
	open    func(ctx context.Context, adapter string) (*bluez.Adapter, error)

	mu    sync.Mutex
	a     *bluez.Adapter
	err   error
	tried time.Time
}

func newRadio(adapter string) *radio {
	return &radio{adapter: adapter, now: time.Now, open: func(ctx context.Context, adapter string) (*bluez.Adapter, error) {
		return bluez.Open(ctx, bluez.Options{Adapter: adapter})
	}}
}

// get returns the adapter's GATT roles with the reader's connection
// timeout; it is a daemon.ReaderSpec.BLE.
func (r *radio) get(ctx context.Context, connect time.Duration) (terminal.BLEConfig, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropLost()
	if r.a == nil && (r.tried.IsZero() || r.now().Sub(r.tried) >= radioRetry) {
		r.tried = r.now()
		r.a, r.err = r.open(ctx, r.adapter)
		if r.err != nil {
			r.err = fmt.Errorf("opening bluetooth adapter %s: %w", r.adapter, r.err)
		}
	}
	if r.a == nil {
		return terminal.BLEConfig{}, r.err
	}
	return terminal.BLEConfig{Peripheral: r.a.Peripheral(), Central: r.a.Central(), ConnectTimeout: connect}, nil
}

func (r *radio) close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.a == nil {
		return nil
	}
	err := r.a.Close()
	r.a = nil
	return err
}

// simRadio is the in-memory BLE link between a simulated reader and its
// simulated wallets (config: ble: {adapter: simulated}).
type simRadio struct {
	link *memlink.Link
}

func newSimRadio() (*simRadio, error) {
	link, err := memlink.New(memlink.Config{})
	if err != nil {
		return nil, err
	}
	return &simRadio{link: link}, nil
}

func (s *simRadio) get(_ context.Context, connect time.Duration) (terminal.BLEConfig, error) {
	return terminal.BLEConfig{Peripheral: s.link.Peripheral(), Central: s.link.Central(), ConnectTimeout: connect}, nil
}

// closeRadios closes every opened BlueZ adapter.
func closeRadios(rs map[string]*radio) error {
	var errs []error
	for _, r := range rs {
		errs = append(errs, r.close())
	}
	return errors.Join(errs...)
}

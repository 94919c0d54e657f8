package readertest

import (
	"context"
	"fmt"
	"sync"

	"github.com/idreader/idreader/reader"
)

// Transceiver is what Cut wraps: anything that carries one command APDU to
// a card and brings its response back (an nfc.Transceiver, a reader.Target).
type Transceiver interface {
	Transmit(ctx context.Context, apdu []byte) ([]byte, error)
}

// Cut passes commands through to a card until After of them were answered,
// then behaves as a phone that left the field: every later Transmit fails
// with reader.ErrRemoved, and the card never sees it. With After < 0 it
// only counts. It is safe for concurrent use.
type Cut struct {
	T     Transceiver
	After int

	mu   sync.Mutex
	sent int
}

// NewCut returns a Cut of t after k commands.
func NewCut(t Transceiver, k int) *Cut { return &Cut{T: t, After: k} }

// Transmit implements Transceiver.
func (c *Cut) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	c.mu.Lock()
	if c.After >= 0 && c.sent >= c.After {
		c.mu.Unlock()
		return nil, fmt.Errorf("readertest: cut after %d commands: %w", c.After, reader.ErrRemoved)
	}
	c.sent++
	c.mu.Unlock()
	return c.T.Transmit(ctx, apdu)
}

// Sent returns the number of commands passed through.
func (c *Cut) Sent() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sent
}

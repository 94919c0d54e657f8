package bluez

import (
	"context"
	"fmt"
	"sync"

	"github.com/idreader/idreader/ble"
)

// maxQueued bounds the values received but not yet taken by NextWrite or
// NextNotification. The interceptor that fills the queue must never block;
// a peer that outruns the consumer by this much is treated as broken.
const maxQueued = 1 << 14

// valueQueue is an ordered, non-blocking queue of received values. Values
// queued before a disconnection are still handed out; after them, pop
// reports ble.ErrDisconnected.
type valueQueue struct {
	mu       sync.Mutex
	items    []ble.CharValue
	overflow bool
	sig      chan struct{}
}

func newValueQueue() *valueQueue { return &valueQueue{sig: make(chan struct{}, 1)} }

// push appends v (already a private copy); it never blocks.
func (q *valueQueue) push(v ble.CharValue) {
	q.mu.Lock()
	if len(q.items) >= maxQueued {
		q.overflow = true
	} else {
		q.items = append(q.items, v)
	}
	q.mu.Unlock()
	select {
	case q.sig <- struct{}{}:
	default:
	}
}

// pop returns the next value, waiting until one arrives, down is closed or
// ctx is done.
func (q *valueQueue) pop(ctx context.Context, down <-chan struct{}, what string) (ble.CharValue, error) {
	for {
		q.mu.Lock()
		if q.overflow {
			q.mu.Unlock()
			return ble.CharValue{}, fmt.Errorf("bluez: %s: more than %d values queued: %w", what, maxQueued, ble.ErrProtocol)
		}
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
		case <-down:
			q.mu.Lock()
			n := len(q.items)
			q.mu.Unlock()
			if n == 0 {
				return ble.CharValue{}, fmt.Errorf("bluez: %s: %w", what, ble.ErrDisconnected)
			}
		case <-ctx.Done():
			return ble.CharValue{}, fmt.Errorf("bluez: %s: %w", what, ctx.Err())
		}
	}
}

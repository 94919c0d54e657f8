package hardwaretest

import (
	"sort"
	"sync"
	"time"

	"github.com/idreader/idreader/hardware"
)

// Clock is a fake hardware.Clock. Time stands still until Advance moves it;
// timers whose deadline is reached fire in deadline order (ties in the order
// they were created), synchronously in the goroutine calling Advance, each
// seeing Now equal to its deadline. Timers created by a firing callback fire
// in the same Advance if their deadline falls within it.
type Clock struct {
	mu     sync.Mutex
	now    time.Time
	seq    uint64
	timers []*timer
}

// Epoch is the time a Clock made by NewClock starts at.
var Epoch = time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)

// NewClock returns a fake clock standing at Epoch.
func NewClock() *Clock { return &Clock{now: Epoch} }

var _ hardware.Clock = (*Clock)(nil)

// Now returns the fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Since returns the fake time elapsed since t.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// AfterFunc schedules f to run when the clock has been advanced by d. A
// non-positive d fires on the next Advance (even Advance(0)).
func (c *Clock) AfterFunc(d time.Duration, f func()) hardware.Timer {
	c.mu.Lock()
	defer c.mu.Unlock()
	if d < 0 {
		d = 0
	}
	c.seq++
	t := &timer{c: c, when: c.now.Add(d), seq: c.seq, f: f}
	c.timers = append(c.timers, t)
	return t
}

// Pending returns the number of timers that have neither fired nor been
// stopped.
func (c *Clock) Pending() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.timers)
}

// Advance moves the clock forward by d, firing every timer whose deadline
// is reached on the way. It returns once all of them have run.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	target := c.now.Add(d)
	c.mu.Unlock()
	for {
		c.mu.Lock()
		sort.SliceStable(c.timers, func(i, j int) bool {
			a, b := c.timers[i], c.timers[j]
			if !a.when.Equal(b.when) {
				return a.when.Before(b.when)
			}
			return a.seq < b.seq
		})
		if len(c.timers) == 0 || c.timers[0].when.After(target) {
			c.now = target
			c.mu.Unlock()
			return
		}
		t := c.timers[0]
		c.timers = c.timers[1:]
		if t.when.After(c.now) {
			c.now = t.when
		}
		c.mu.Unlock()
		t.f()
	}
}

type timer struct {
	c    *Clock
	when time.Time
	seq  uint64
	f    func()
}

// Stop removes the timer if it has not fired.
func (t *timer) Stop() bool {
	t.c.mu.Lock()
	defer t.c.mu.Unlock()
	for i, x := range t.c.timers {
		if x == t {
			t.c.timers = append(t.c.timers[:i:i], t.c.timers[i+1:]...)
			return true
		}
	}
	return false
}

package pn532test

import (
	"fmt"
	"time"
)

// FaultKind is a way the chip or the target misbehaves.
type FaultKind int

// Faults.
const (
	// FaultNACK answers the command frame with a NACK instead of an ACK:
	// the host must send it again.
	FaultNACK FaultKind = iota + 1
	// FaultNoACK ignores the command frame: the host waits for the ACK in
	// vain; it sends a resendable command again (pn532.Resendable) and
	// aborts any other one.
	FaultNoACK
	// FaultBadChecksum sends the response with a wrong DCS: the host
	// answers with a NACK and the chip sends it again, intact.
	FaultBadChecksum
	// FaultTimeout answers InDataExchange with status 0x01 (the target
	// did not answer in time); the target stays in the field.
	FaultTimeout
	// FaultLoseTarget takes the card out of the field during
	// InDataExchange: status 0x01, and the presence check fails after.
	FaultLoseTarget
	// FaultSilent makes the chip ignore this and the following command
	// frames: For of them, or all until a reset when For is 0.
	FaultSilent
	// FaultRefusePSL makes the target refuse the bit rate change of
	// InPSL (status 0x01); the exchange goes on at 106 kbit/s.
	FaultRefusePSL
	// FaultLateACK holds the ACK of an InDataExchange back for Delay
	// before the chip runs it: the host must neither send it again (it
	// would run twice) nor give up on it too early.
	FaultLateACK
)

var faultNames = map[FaultKind]string{
	FaultNACK: "nack", FaultNoACK: "no-ack", FaultBadChecksum: "bad-checksum",
	FaultTimeout: "timeout", FaultLoseTarget: "lose-target", FaultSilent: "silent",
	FaultRefusePSL: "refuse-psl", FaultLateACK: "late-ack",
}

func (k FaultKind) String() string {
	if n, ok := faultNames[k]; ok {
		return n
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// ParseFaultKind parses a fault name as String prints it.
func ParseFaultKind(s string) (FaultKind, error) {
	for k, n := range faultNames {
		if n == s {
			return k, nil
		}
	}
	return 0, fmt.Errorf("pn532test: unknown fault %q", s)
}

// Fault is one armed fault. It fires once, at the At-th frame of Command
// counted from when it was armed.
type Fault struct {
	Kind FaultKind
	// Command is the command code the fault hits (pn532.CmdInDataExchange
	// and so on). FaultTimeout and FaultLoseTarget only hit
	// InDataExchange, FaultRefusePSL only InPSL.
	Command byte
	// At is the 1-based count of Command frames at which it fires; 0
	// means 1.
	At int
	// For is the number of command frames a FaultSilent chip ignores; 0
	// means until a reset.
	For int
	// Delay is how late FaultLateACK sends the ACK; 0 means 500 ms.
	Delay time.Duration
}

type armed struct {
	Fault
	seen  int
	fired bool
}

// Arm arms faults; each fires once. Arming replaces faults armed before.
func (c *Chip) Arm(faults ...Fault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = c.faults[:0]
	for _, f := range faults {
		if f.At <= 0 {
			f.At = 1
		}
		c.faults = append(c.faults, armed{Fault: f})
	}
}

// trigger counts a command frame of cmd and returns the fault that fires on
// it, 0 for none.
func (c *Chip) triggerLocked(cmd byte) FaultKind {
	var kind FaultKind
	for i := range c.faults {
		f := &c.faults[i]
		if f.fired || f.Command != cmd {
			continue
		}
		f.seen++
		if f.seen == f.At && kind == 0 {
			f.fired = true
			kind = f.Kind
			if kind == FaultLateACK {
				c.lateACK = f.Delay
				if c.lateACK <= 0 {
					c.lateACK = 500 * time.Millisecond
				}
			}
			if kind == FaultSilent {
				c.silent = f.For - 1
				if f.For == 0 {
					c.silent = -1
				}
			}
		}
	}
	return kind
}

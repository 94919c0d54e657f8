package terminal

import (
	"encoding/json"
	"fmt"
	"time"
)

// Phase names one phase of a tap, from the reader seeing the target to the
// outputs showing the decision. They are the keys of [Timing.Phases], the
// phase label of the tap-phase metric and the keys of the "timing" object
// of `idreader read --json`.
type Phase string

// The phases of a tap in order. A tap reports those it went through; the
// terminal measures detection to verification, the daemon decision and
// output.
const (
	// PhaseDetection is from the reader's presence event to a connected
	// target (power-up, ATR), for readers that report it.
	PhaseDetection Phase = "detection"
	// PhaseEngagement is the NFC handover (static or negotiated) or the
	// reading of the QR code's DeviceEngagement.
	PhaseEngagement Phase = "engagement"
	// PhaseSession is the ephemeral key, the SessionTranscript and the
	// session keys (ISO/IEC 18013-5 clause 9.1.5).
	PhaseSession Phase = "session"
	// PhaseRequest is building, signing (reader authentication) and
	// encrypting the DeviceRequest.
	PhaseRequest Phase = "request"
	// PhaseTransfer is the data retrieval on the wire: opening the
	// transport (SELECT, or the BLE connection), sending the request and
	// receiving and decrypting the response. Most of it is the wallet's
	// time: its consent prompt, its signature and the transmission.
	PhaseTransfer Phase = "transfer"
	// PhaseVerification is the verification of the DeviceResponse.
	PhaseVerification Phase = "verification"
	// PhaseDecision is the policy decision on the verified response.
	PhaseDecision Phase = "decision"
	// PhaseOutput is signalling the decision on the outputs (LEDs, relay,
	// display).
	PhaseOutput Phase = "output"
)

// Phases lists every phase in tap order.
var Phases = []Phase{PhaseDetection, PhaseEngagement, PhaseSession, PhaseRequest, PhaseTransfer, PhaseVerification, PhaseDecision, PhaseOutput}

// Timing is how long each phase of one tap took; a zero duration means the
// phase did not happen (or was not measured). Opening the NFC data transfer
// runs while the session and the request are prepared, so the phases may
// overlap and their sum may exceed the tap's wall time. It carries no
// personal data.
type Timing struct {
	Detection, Engagement, Session, Request, Transfer, Verification, Decision, Output time.Duration
}

func (t *Timing) field(p Phase) *time.Duration {
	switch p {
	case PhaseDetection:
		return &t.Detection
	case PhaseEngagement:
		return &t.Engagement
	case PhaseSession:
		return &t.Session
	case PhaseRequest:
		return &t.Request
	case PhaseTransfer:
		return &t.Transfer
	case PhaseVerification:
		return &t.Verification
	case PhaseDecision:
		return &t.Decision
	case PhaseOutput:
		return &t.Output
	}
	return nil
}

// Get returns the duration of phase p (0 for an unknown phase).
func (t Timing) Get(p Phase) time.Duration {
	if f := t.field(p); f != nil {
		return *f
	}
	return 0
}

// Set sets the duration of phase p; an unknown phase is ignored.
func (t *Timing) Set(p Phase, d time.Duration) {
	if f := t.field(p); f != nil {
		*f = d
	}
}

// Add adds d to the duration of phase p.
func (t *Timing) Add(p Phase, d time.Duration) {
	if f := t.field(p); f != nil {
		*f += d
	}
}

// PhaseTime is the duration of one phase.
type PhaseTime struct {
	Phase    Phase
	Duration time.Duration
}

// Phases returns the phases that took place, in tap order.
func (t Timing) Phases() []PhaseTime {
	var out []PhaseTime
	for _, p := range Phases {
		if d := t.Get(p); d > 0 {
			out = append(out, PhaseTime{p, d})
		}
	}
	return out
}

// Milliseconds returns phase → milliseconds for the phases that took place,
// the shape of the "timing" object in `idreader read --json` and the audit
// record. Durations are rounded up to the microsecond, so a phase that took
// place never reads as 0.
func (t Timing) Milliseconds() map[string]float64 {
	out := make(map[string]float64, len(Phases))
	for _, pt := range t.Phases() {
		us := (pt.Duration + time.Microsecond - 1) / time.Microsecond
		out[string(pt.Phase)] = float64(us) / 1000
	}
	return out
}

// MarshalJSON writes the phases as {"engagement": 4.21, ...} in
// milliseconds.
func (t Timing) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.Milliseconds())
}

// UnmarshalJSON reads what MarshalJSON writes; unknown phases are an error.
func (t *Timing) UnmarshalJSON(b []byte) error {
	var m map[string]float64
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*t = Timing{}
	for k, v := range m {
		f := t.field(Phase(k))
		if f == nil {
			return fmt.Errorf("terminal: unknown tap phase %q", k)
		}
		*f = time.Duration(v * float64(time.Millisecond))
	}
	return nil
}

// Package gpio renders hardware signals on GPIO pins through periph.io: a
// green and a red indicator, a buzzer and a relay (door strike, turnstile,
// cash drawer), each optional and named by its periph pin name in a Config.
//
// What each signal does (durations from Config):
//
//	Off      everything inert.
//	Ready    green steady, blinking or dark (Ready, ReadyBlink).
//	Reading  green blinks (ReadingBlink).
//	Accept   green on for AcceptHold, AcceptBeep on the buzzer, relay pulse
//	         of RelayPulse; red off.
//	Reject   red on for RejectHold, RejectBeep on the buzzer; green and relay
//	         off.
//	Fault    red blinks (FaultBlink), FaultBeep on the buzzer.
//
// Show sets the signal's initial levels before it returns; the timed rest
// of the pattern runs on the Clock and is cut short by the next Show; a pin
// that is on and stays on in the new pattern is not switched (a reject beep
// starting during an accept beep continues it without a gap). Off
// and Close leave every pin at its inactive level (Low, or High for an
// active-low pin), and so does New before it returns.
//
// New takes the pins from a lookup function and never touches the host, so
// tests run on periph's gpiotest fakes (see hardwaretest.Board). Open is the
// constructor for a real board: it initialises periph's host drivers and
// looks pins up by name in gpioreg. Only cmd/ should call Open.
package gpio

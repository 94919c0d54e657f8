// Package hardware is the contract for the terminal's outputs: indicators,
// a buzzer, a relay and a console line. The daemon tells an Output what
// state a reader is in; each adapter (hardware/gpio on periph.io, the
// console) renders it its own way. The kiosk display is not an output: it
// is a web view of the daemon's events and lives in api/display. This
// package and its subpackages import nothing above them (no terminal,
// daemon or api). Fakes, including a fake Clock, live in hardwaretest.
package hardware

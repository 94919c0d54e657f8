// Package hardware is the contract for the terminal's outputs: indicators,
// a buzzer, a relay and screens. The daemon tells an Output what state a
// reader is in; each adapter (hardware/gpio on periph.io, the console, the
// kiosk display) renders it its own way. Fakes live in hardwaretest.
package hardware

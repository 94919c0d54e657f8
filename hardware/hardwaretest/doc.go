// Package hardwaretest has fakes for testing code that drives
// hardware.Output and for testing the output adapters themselves: a fake
// Clock that fires timers only when advanced, a Recorder output that
// remembers every signal (and can be told to fail), and a Board of periph
// gpiotest pins that logs every level written with its fake-clock time.
// Nothing here touches real hardware or sleeps.
package hardwaretest

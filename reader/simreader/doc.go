// Package simreader is a simulated NFC reader: a reader.Reader whose targets
// are in-process cards (the simulated wallet of holder/wallet, or anything
// with an nfc.Transceiver and a field to power). Tests and `idreaderd --demo`
// use it to run the daemon's reader loop without pcscd or hardware.
//
// A card enters the field with Reader.Put and leaves with Target.Remove;
// Reader.Cycle taps a list of cards one after the other, each leaving the
// field shortly after its last APDU, the way a person takes the phone away
// after the beep. The reader enforces its APDU limits (reader.Limits) like a
// real one, and a card that stops answering counts as removed.
package simreader

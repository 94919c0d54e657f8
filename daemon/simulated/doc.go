// Package simulated builds the world of `idreaderd --demo` and of the
// daemon's tests: a fresh test PKI (holder/pki) with a US and a Japanese
// issuer and a reader-authentication certificate, sample credentials
// (holder/credential: an adult's mDL, an under-age holder's mDL, a My Number
// card) and simulated wallets (holder/wallet) that hold them, plus the
// daemon Settings that trust that PKI. Every key is generated at start and
// lives in memory only; nothing here is fit for anything but demonstrations
// and tests.
package simulated

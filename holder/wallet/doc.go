// Package wallet is a phone-shaped simulated mdoc wallet ("holder") that
// answers ISO/IEC 7816-4 APDUs the way a phone does when an ISO/IEC 18013-5
// reader taps it:
//
//   - NFC engagement as an NFC Forum Type 4 Tag (ISO/IEC 18013-5 clause
//     8.2.2.1): the NDEF application, the Capability Container and the NDEF
//     file, with static handover (a Handover Select in the NDEF file),
//     negotiated handover (NFC Forum TNEP: Service Parameter, Service Select,
//     TNEP status, Handover Request, Handover Select) or an Apple-Wallet-shaped
//     negotiated handover (Apple's CC and service parameters, NLEN 0 polled a
//     few times before the Handover Select, a "1.1" DeviceEngagement with keys
//     5 and 6);
//   - NFC data transfer (clause 8.3.3.1.2): SELECT of A0 00 00 02 48 04 00,
//     chained ENVELOPE commands carrying BER-TLV 53, response chaining with
//     61xx and GET RESPONSE;
//   - BLE data retrieval (clause 8.3.3.1.1, Wallet.ServeBLE) in mdoc central
//     client mode (the wallet dials the reader's UUID and checks Ident) or
//     peripheral server mode (the wallet advertises), selected in the Handover
//     Select (Config.OfferBLE, BLEMode, BLEOnly for an Apple-shaped Hs) or by
//     a QR engagement (Wallet.ShowQR, DeviceEngagement key 2); the session
//     logic is shared with NFC data transfer;
//   - the session (clause 9.1.1): a fresh EDeviceKey per tap on the configured
//     curve, SessionEstablishment, the DeviceRequest, reader authentication
//     (clause 9.1.4), the DeviceResponse from package credential with a
//     deviceSignature or deviceMac (clause 9.1.3), SessionData status codes and
//     termination.
//
// A Wallet is a holder/vpcd.Card, so it can sit behind pcscd's virtual reader,
// and it offers an in-process nfc.Transceiver (Wallet.Transceiver) so tests
// and `idreader selftest` can run a whole tap without pcscd.
//
// Faults switch on the broken behaviours a reader must survive: tampered
// values, device authentication over another transcript or with another key,
// a stall before the answer, a card that leaves the field mid-transfer and a
// reply that is not CBOR or does not decrypt.
//
// Randomness, the clock and the sleep used for stalls are parameters (Config);
// nothing here touches the network or the disk.
package wallet

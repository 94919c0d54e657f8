// Package nfc implements the NFC side of an ISO/IEC 18013-5 mdoc reader (and
// the pieces a simulated wallet needs to answer it), in pure Go with no I/O:
//
//   - ISO/IEC 7816-4 command and response APDUs, short and extended, with
//     GET RESPONSE chaining and status words as typed errors ([StatusError]);
//   - the NFC Forum Type 4 Tag NDEF read and write procedures over a
//     one-method [Transceiver] ([Tag]);
//   - NDEF records and messages ([Record], [Message]);
//   - NFC Forum Connection Handover 1.5 Handover Request and Handover Select
//     messages with the 18013-5 carrier records (BLE OOB, NFC, Wi-Fi Aware,
//     DeviceEngagement, ReaderEngagement);
//   - the 18013-5 static and negotiated (NFC Forum TNEP) handover flows
//     ([HandoverReader]), which keep the Handover
//     Select and Handover Request bytes exactly as they crossed the air;
//   - ISO/IEC 18013-5 clause 8.3.3.1.2 NFC data transfer: ENVELOPE with
//     command chaining, BER-TLV 53 wrapping and response chaining
//     ([Exchanger], [ResponseChunker]).
//
// The reader hardware is reached through [Transceiver]; its capabilities are
// described by [Limits], so extended-APDU readers and short-only readers
// (ACR122U, PN532) both work. Waiting (TNEP T_wait) goes through an injectable
// [SleepFunc]. Randomness is always an io.Reader parameter.
//
// Parsers never panic on bad input; they return errors wrapping the leaf
// errors of this package ("nfc: ..."), and callers can branch on the
// sentinels with errors.Is.
package nfc

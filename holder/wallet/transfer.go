package wallet

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"sort"

	"github.com/idreader/idreader/holder/credential"
	"github.com/idreader/idreader/mdoc"
	"github.com/idreader/idreader/nfc"
	"github.com/idreader/idreader/session"
)

// envelope takes one ENVELOPE of NFC data transfer (ISO/IEC 18013-5 clause
// 8.3.3.1.2): chained blocks (CLA 10) are answered 9000; the last block
// completes a TLV 53 message, whose reply is served in Le-sized pieces with
// 61xx and GET RESPONSE.
func (s *tap) envelope(ctx context.Context, cmd nfc.Command) ([]byte, error) {
	if s.app != appData {
		return sw(nfc.SWConditionsNotSatisfied), nil
	}
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return sw(nfc.SWWrongP1P2), nil
	}
	if len(cmd.Data) > s.cfg.MaxCommandData {
		return sw(nfc.SWWrongLength), nil
	}
	// A new message while a reply is still pending abandons the reply.
	s.tx, s.txKind = nfc.ResponseChunker{}, replyNone
	msg, done, err := s.rx.Add(cmd)
	if err != nil {
		s.report.Err = fmt.Errorf("wallet: receiving envelope: %w", err)
		if errors.Is(err, nfc.ErrWrongLength) {
			return sw(nfc.SWWrongLength), nil
		}
		return sw(nfc.SWWrongData), nil
	}
	if !done {
		return sw(nfc.SWSuccess), nil
	}
	reply, kind := s.onMessage(msg)
	if kind == replyResponse {
		f := s.cfg.Faults
		if f.Vanish {
			s.gone, s.finished = true, true
			s.report.Vanished = true
			s.notify(s.cfg.OnDone)
			return nil, nil
		}
		if f.Stall > 0 {
			if err := s.cfg.Sleep(ctx, f.Stall); err != nil {
				s.report.Err = fmt.Errorf("wallet: stalled answer abandoned: %w", err)
				s.finished = true
				s.notify(s.cfg.OnDone)
				return nil, err
			}
		}
	}
	if err := s.tx.SetMessage(reply); err != nil {
		s.report.Err = fmt.Errorf("wallet: wrapping reply: %w", err)
		return sw(nfc.SWUnknown), nil
	}
	s.txKind = kind
	return s.serve(cmd.Ne), nil
}

// getResponse is GET RESPONSE 00 C0 00 00 Le (ISO/IEC 7816-4 clause 7.6.1).
func (s *tap) getResponse(cmd nfc.Command) []byte {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return sw(nfc.SWWrongP1P2)
	}
	if s.app != appData || s.tx.Pending() == 0 {
		return sw(nfc.SWConditionsNotSatisfied)
	}
	if cmd.Ne == 0 {
		return sw(nfc.SWWrongLength)
	}
	return s.serve(cmd.Ne)
}

// serve answers the next piece of the queued reply and reports the end of a
// response or of the tap once it is fully out.
func (s *tap) serve(ne int) []byte {
	r := s.tx.Next(min(ne, s.cfg.MaxResponseData))
	if s.tx.Pending() == 0 {
		switch s.txKind {
		case replyResponse:
			s.notify(s.cfg.OnResponse)
		case replyFinal:
			s.finished = true
			s.notify(s.cfg.OnDone)
		}
		s.txKind = replyNone
	}
	return r.Encode()
}

// onMessage handles one 18013-5 message and returns the reply: the first is
// a SessionEstablishment, later ones SessionData (ISO/IEC 18013-5 clause
// 9.1.1.4).
func (s *conversation) onMessage(msg []byte) ([]byte, replyKind) {
	if s.dev == nil {
		// No Handover Select served yet: no session keys exist.
		return s.fail(session.StatusEncryptionError, errors.New("wallet: session message before the handover select"))
	}
	if !s.est {
		se, err := session.ParseSessionEstablishment(msg)
		if err != nil {
			return s.fail(session.StatusDecodingError, fmt.Errorf("wallet: reading SessionEstablishment: %w", err))
		}
		// The reader's request as SessionData, for Faults.Hostile replay.
		if s.lastIn, err = (&session.SessionData{Data: se.Data}).Marshal(); err != nil {
			return s.fail(session.StatusEncryptionError, err)
		}
		req, err := s.dev.Establish(msg)
		if err != nil {
			return s.fail(session.StatusEncryptionError, fmt.Errorf("wallet: establishing session: %w", err))
		}
		s.est = true
		return s.respond(req)
	}
	if _, err := session.ParseSessionData(msg); err != nil {
		return s.fail(session.StatusDecodingError, fmt.Errorf("wallet: reading SessionData: %w", err))
	}
	m, err := s.dev.Open(msg)
	if err != nil {
		return s.fail(session.StatusEncryptionError, fmt.Errorf("wallet: opening SessionData: %w", err))
	}
	s.lastIn = msg
	if m.HasStatus {
		s.report.Received = append(s.report.Received, m.Status)
	}
	if m.Plaintext == nil {
		// Status only: 20 ends the session; the wallet treats 10 and 11
		// from the reader the same way. The ENVELOPE is answered with an
		// empty TLV 53 (53 00) so the reader's exchange completes.
		if m.Terminated() {
			s.report.Terminated = true
		} else {
			s.report.Err = fmt.Errorf("wallet: reader sent status %v", m.Status)
		}
		return nil, replyFinal
	}
	reply, kind := s.respond(m.Plaintext)
	if m.Terminated() {
		// Data and status 20 together: answer, then end.
		s.report.Terminated = true
		kind = replyFinal
	}
	return reply, kind
}

// fail returns SessionData {"status": st} (10 session encryption error, 11
// CBOR decoding error) and ends the tap.
func (s *conversation) fail(st session.Status, err error) ([]byte, replyKind) {
	s.report.Err = err
	s.report.Status, s.report.HasStatus = st, true
	b, merr := (&session.SessionData{Status: st, HasStatus: true}).Marshal()
	if merr != nil {
		s.report.Err = errors.Join(err, merr)
		return nil, replyFinal
	}
	return b, replyFinal
}

// respond answers a DeviceRequest (ISO/IEC 18013-5 clause 8.3.2.1.2): reader
// authentication per document request, then the DeviceResponse from the
// credentials held, sealed as SessionData.
func (s *conversation) respond(reqBytes []byte) ([]byte, replyKind) {
	dr, err := mdoc.ParseDeviceRequest(reqBytes)
	if err != nil {
		return s.fail(session.StatusDecodingError, fmt.Errorf("wallet: reading DeviceRequest: %w", err))
	}
	st := s.dev.Transcript()
	var reqs, refused []credential.DocRequest
	for _, d := range dr.DocRequests {
		r := credential.DocRequest{DocType: d.ItemsRequest.DocType, NameSpaces: d.ItemsRequest.NameSpaces}
		s.report.Requests = append(s.report.Requests, r)
		if ra, ok := s.readerAuth(d, st); ok {
			s.report.ReaderAuth = append(s.report.ReaderAuth, ra)
			if ra.Refused {
				refused = append(refused, r)
				continue
			}
		}
		reqs = append(reqs, r)
	}
	opts := credential.PresentOptions{
		Rand:              s.cfg.Rand,
		SessionTranscript: st.Bytes(),
		MAC:               s.cfg.Auth == AuthMAC,
		ReaderKey:         s.dev.EReaderKey(),
		Faults: credential.Faults{
			TamperValue:         s.tamperTarget(reqs),
			SignOtherTranscript: s.cfg.Faults.SignOtherTranscript,
			WrongDeviceKey:      s.cfg.Faults.WrongDeviceKey,
			DiscloseAll:         s.cfg.Faults.DiscloseAll,
		},
	}
	if s.cfg.Faults.WithholdAll {
		refused, reqs = append(refused, reqs...), nil
	}
	resp, err := s.deviceResponse(reqs, refused, opts)
	if err != nil {
		// Presentation failed (for instance deviceMac with an EReaderKey
		// on another curve than the device key): DeviceResponse status 10.
		s.report.Err = err
		resp, err = credential.DeviceResponse(credential.StatusGeneralError, nil)
		if err != nil {
			return s.fail(session.StatusEncryptionError, err)
		}
	}
	s.report.Responses++
	switch s.cfg.Faults.Garbage {
	case GarbageNotCBOR:
		// 0xFF is a "break" byte outside an indefinite-length item: never
		// valid CBOR at the top level.
		g := make([]byte, 32)
		if _, err := s.cfg.Rand.Read(g); err != nil {
			return s.fail(session.StatusEncryptionError, err)
		}
		g[0] = 0xFF
		return g, replyResponse
	case GarbageUndecryptable:
		g := make([]byte, len(resp)+16)
		if _, err := s.cfg.Rand.Read(g); err != nil {
			return s.fail(session.StatusEncryptionError, err)
		}
		b, err := (&session.SessionData{Data: g}).Marshal()
		if err != nil {
			return s.fail(session.StatusEncryptionError, err)
		}
		return b, replyResponse
	}
	if h := s.cfg.Faults.Hostile; h != HostileNone {
		reply, err := s.hostileReply(h, resp, s.lastIn)
		if err != nil {
			return s.fail(session.StatusEncryptionError, err)
		}
		return reply, replyResponse
	}
	sealed, err := s.dev.Seal(resp)
	if err != nil {
		return s.fail(session.StatusEncryptionError, fmt.Errorf("wallet: sealing DeviceResponse: %w", err))
	}
	return sealed, replyResponse
}

// deviceResponse presents the requested documents. Without refusals it is
// credential.Respond; refused documents are listed in documentErrors with
// code 0 (data not returned, ISO/IEC 18013-5 clause 8.3.2.1.2.3).
func (s *conversation) deviceResponse(reqs, refused []credential.DocRequest, opts credential.PresentOptions) ([]byte, error) {
	if len(refused) == 0 {
		return credential.Respond(s.cfg.Credentials, reqs, opts)
	}
	errs := map[string]int{}
	for _, r := range refused {
		errs[r.DocType] = credential.ErrorCodeDataNotReturned
	}
	var docs [][]byte
	for _, r := range reqs {
		c := s.credential(r.DocType)
		if c == nil {
			errs[r.DocType] = credential.ErrorCodeDataNotReturned
			continue
		}
		o := opts
		o.Requested = r.NameSpaces
		d, err := c.Present(o)
		if err != nil {
			return nil, fmt.Errorf("wallet: presenting %s: %w", r.DocType, err)
		}
		docs = append(docs, d)
	}
	return credential.DeviceResponse(credential.StatusOK, errs, docs...)
}

func (s *conversation) credential(docType string) *credential.Credential {
	for _, c := range s.cfg.Credentials {
		if c.DocType == docType {
			return c
		}
	}
	return nil
}

// tamperTarget picks the element Faults.Tamper changes: TamperElement, or
// the first requested element held (sorted by namespace and identifier).
func (s *conversation) tamperTarget(reqs []credential.DocRequest) string {
	f := s.cfg.Faults
	if f.TamperElement != "" {
		return f.TamperElement
	}
	if !f.Tamper {
		return ""
	}
	for _, r := range reqs {
		c := s.credential(r.DocType)
		if c == nil {
			continue
		}
		nss := make([]string, 0, len(r.NameSpaces))
		for ns := range r.NameSpaces {
			nss = append(nss, ns)
		}
		sort.Strings(nss)
		for _, ns := range nss {
			ids := make([]string, 0, len(r.NameSpaces[ns]))
			for id := range r.NameSpaces[ns] {
				ids = append(ids, id)
			}
			sort.Strings(ids)
			for _, id := range ids {
				if c.Has(ns, id) {
					return id
				}
			}
		}
	}
	return ""
}

// readerAuth verifies a document request's readerAuth (ISO/IEC 18013-5
// clause 9.1.4) and, with Config.ReaderTrust, its chain. ok is false when
// there is nothing to record: no readerAuth and no trust configured.
func (s *conversation) readerAuth(d mdoc.DocRequest, st *session.SessionTranscript) (ReaderAuthResult, bool) {
	r := ReaderAuthResult{DocType: d.ItemsRequest.DocType, Present: len(d.ReaderAuth) > 0}
	enforce := len(s.cfg.ReaderTrust) > 0
	if !r.Present {
		if !enforce {
			return r, false
		}
		r.Err = fmt.Errorf("%w: no readerAuth", session.ErrReaderAuth)
		r.Refused = true
		return r, true
	}
	chain, err := session.VerifyReaderAuth(d.ReaderAuth, st, d.ItemsRequestBytes)
	if err != nil {
		r.Err = err
		r.Refused = enforce
		return r, true
	}
	r.Chain = chain
	if enforce {
		roots := x509.NewCertPool()
		for _, c := range s.cfg.ReaderTrust {
			roots.AddCert(c)
		}
		inter := x509.NewCertPool()
		for _, c := range chain[1:] {
			inter.AddCert(c)
		}
		_, err := chain[0].Verify(x509.VerifyOptions{
			Roots:         roots,
			Intermediates: inter,
			CurrentTime:   s.cfg.Now(),
			// The reader certificate's EKU 1.0.18013.5.1.6 (Annex B.1.7)
			// is unknown to crypto/x509.
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
		})
		if err != nil {
			r.Err = fmt.Errorf("%w: reader certificate: %w", session.ErrReaderAuth, err)
			r.Refused = true
		}
	}
	return r, true
}

package verify

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/idreader/idreader/mdoc"
)

// What the wallet answered beside the documents it returned: doc types and
// elements it names as not returned (ISO/IEC 18013-5 clause 8.3.2.1.2.2,
// 8.3.2.1.2.3), and elements it disclosed although nobody asked.

// DocumentError is one entry of the DeviceResponse's documentErrors: a doc
// type the wallet did not return, with its error code (0: data not
// returned, clause 8.3.2.1.2.3).
type DocumentError struct {
	DocType   string
	ErrorCode int64
}

// NotReturned is a requested element the wallet listed in the Document's
// errors (clause 8.3.2.1.2.2) with its error code.
type NotReturned struct {
	Namespace  string
	Identifier string
	ErrorCode  int64
}

// documentErrors flattens documentErrors, each map's doc types sorted.
func documentErrors(r *mdoc.DeviceResponse) []DocumentError {
	var out []DocumentError
	for _, m := range r.DocumentErrors {
		dts := make([]string, 0, len(m))
		for dt := range m {
			dts = append(dts, dt)
		}
		sort.Strings(dts)
		for _, dt := range dts {
			out = append(out, DocumentError{DocType: dt, ErrorCode: m[dt]})
		}
	}
	return out
}

// noDocuments records why a response holds no document: with status 0 and
// documentErrors the wallet said it does not return the doc types asked for
// (not_returned); without documentErrors the response is malformed.
func (res *Result) noDocuments(r *mdoc.DeviceResponse) {
	errs := documentErrors(r)
	if r.Status != mdoc.StatusOK || len(errs) == 0 {
		res.fail(fmt.Errorf("%w: DeviceResponse without documents", ErrMalformed), "device response has no documents")
		return
	}
	parts := make([]string, len(errs))
	for i, e := range errs {
		parts[i] = e.DocType + " (error code " + strconv.FormatInt(e.ErrorCode, 10) + ")"
	}
	detail := "the wallet returned no document: " + strings.Join(parts, ", ") + " not returned"
	res.Failures = append(res.Failures, Failure{Code: CodeNotReturned, Detail: detail, Err: fmt.Errorf("%w: %s", ErrNotReturned, detail)})
}

// requestedSet is docType → namespace → identifier → requested.
type requestedSet map[string]map[string]map[string]bool

func newRequestedSet(reqs []mdoc.ItemsRequest) requestedSet {
	if reqs == nil {
		return nil
	}
	s := requestedSet{}
	for _, ir := range reqs {
		nss := s[ir.DocType]
		if nss == nil {
			nss = map[string]map[string]bool{}
			s[ir.DocType] = nss
		}
		for ns, ids := range ir.NameSpaces {
			if nss[ns] == nil {
				nss[ns] = map[string]bool{}
			}
			for id := range ids {
				nss[ns][id] = true
			}
		}
	}
	return s
}

// has reports whether the element was requested; a nil set requests all.
func (s requestedSet) has(docType, ns, id string) bool {
	return s == nil || s[docType][ns][id]
}

// answered fills what the response says besides its proven elements: the
// documentErrors, each document's not-returned elements, and with a request
// it drops the elements nobody asked for, counting them.
func (res *Result) answered(r *mdoc.DeviceResponse, request []mdoc.ItemsRequest) {
	res.DocumentErrors = documentErrors(r)
	req := newRequestedSet(request)
	for i := range res.Documents {
		if i >= len(r.Documents) {
			break
		}
		doc, out := &r.Documents[i], &res.Documents[i]
		if req == nil && len(doc.Errors) == 0 {
			continue // nothing to add: the common case costs nothing
		}
		disclosed := receivedElements(doc)
		out.NotReturned = notReturned(doc, disclosed, req)
		if req == nil {
			continue
		}
		for k := range disclosed {
			if !req.has(doc.DocType, k.ns, k.id) {
				out.Unrequested++
			}
		}
		kept := out.Elements[:0]
		for _, e := range out.Elements {
			if req.has(doc.DocType, e.Namespace, e.Identifier) {
				kept = append(kept, e)
			}
		}
		clear(out.Elements[len(kept):]) // no unrequested value stays reachable
		out.Elements = kept
		if out.Unrequested == 0 {
			continue
		}
		for j := range out.Checks {
			c := &out.Checks[j]
			switch {
			case c.Name == CheckValueDigests && c.OK:
				c.Detail += ", " + strconv.Itoa(out.Unrequested) + " unrequested elements ignored"
			case c.Name == CheckIssuingCountry && c.OK && disclosed[elementKey{mdoc.NameSpaceMDL, mdoc.ElementIssuingCountry}] &&
				!req.has(doc.DocType, mdoc.NameSpaceMDL, mdoc.ElementIssuingCountry):
				// Checked against the certificates, but its value is not
				// shown: nobody asked for it.
				c.Detail = "unrequested element matches the DS and IACA countries"
			}
		}
	}
}

type elementKey struct{ ns, id string }

// receivedElements is the set of elements the document carries, issuer- or
// device-signed, proven or not. A DeviceNameSpaces that does not decode
// adds nothing (the key_authorizations check reports it).
func receivedElements(doc *mdoc.Document) map[elementKey]bool {
	m := map[elementKey]bool{}
	for ns, items := range doc.IssuerSigned.NameSpaces {
		for _, it := range items {
			m[elementKey{ns, it.Item.ElementIdentifier}] = true
		}
	}
	if dev, err := doc.DeviceSigned.DeviceNameSpaces(); err == nil {
		for ns, els := range dev {
			for id := range els {
				m[elementKey{ns, id}] = true
			}
		}
	}
	return m
}

// notReturned lists the requested elements of the Document's errors that
// the document does not carry anyway, sorted by namespace and identifier.
func notReturned(doc *mdoc.Document, disclosed map[elementKey]bool, req requestedSet) []NotReturned {
	var out []NotReturned
	for ns, ids := range doc.Errors {
		for id, code := range ids {
			if disclosed[elementKey{ns, id}] || !req.has(doc.DocType, ns, id) {
				continue
			}
			out = append(out, NotReturned{Namespace: ns, Identifier: id, ErrorCode: code})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Namespace != out[j].Namespace {
			return out[i].Namespace < out[j].Namespace
		}
		return out[i].Identifier < out[j].Identifier
	})
	return out
}

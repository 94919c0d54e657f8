package api

import (
	"encoding/json"
	"net/http"
)

// Error codes of the JSON error body {"error": {"code", "detail"}}.
const (
	CodeBadRequest     = "bad_request"
	CodeTooLarge       = "too_large"
	CodeMediaType      = "unsupported_media_type"
	CodeUnauthorized   = "unauthorized"
	CodeForbidden      = "forbidden"
	CodeNotFound       = "not_found"
	CodeMethod         = "method_not_allowed"
	CodeUnknownProfile = "unknown_profile"
	CodeUnknownReader  = "unknown_reader"
	CodeBusy           = "busy"
	CodeCancelled      = "cancelled"
	CodeTimeout        = "timeout"
	CodeCheckFailed    = "check_failed"
	CodeNoResult       = "no_result"
	CodeNoCheck        = "no_check"
	CodeUnavailable    = "unavailable"
)

// ErrorBody is the JSON body of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error of an ErrorBody: a stable code and a sentence.
type ErrorDetail struct {
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":{"code":"internal","detail":"api: encoding the answer failed"}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}

func writeError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, ErrorBody{ErrorDetail{Code: code, Detail: detail}})
}

func methodNotAllowed(w http.ResponseWriter, allow string) {
	w.Header().Set("Allow", allow)
	writeError(w, http.StatusMethodNotAllowed, CodeMethod, "api: method not allowed; use "+allow)
}

// Package faultproxy is a reverse proxy for tests that sits between an AWS
// SDK client and an AWS API emulator (moto) and fails chosen Kinesis
// PutRecords entries, or whole calls, at the wire. moto never fails an
// entry, so this is how the router's retry and ordering paths get exercised
// against real HTTP, real SDK (de)serialisation and a real stream.
//
// A failed entry is really not written: it is removed from the request
// before the request goes on, and a failure result (ErrorCode, ErrorMessage)
// is spliced into the answer at its position, with FailedRecordCount fixed.
// A failed call never reaches the emulator, unless its fault says
// AfterWrite: then the call is forwarded whole, the emulator writes its
// records, and the answer is lost: replaced by the fault, or by a reset
// connection. That is how a client sees a write whose answer broke.
//
// Only the awsJson1.1 protocol is understood; aws-sdk-go-v2's Kinesis client
// (v1.56) speaks it (Content-Type application/x-amz-json-1.1, X-Amz-Target
// Kinesis_20131202.PutRecords). A PutRecords call in CBOR is refused with
// 501 rather than passed through unfaulted. Every other request is passed
// through untouched.
package faultproxy

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Entry error codes Kinesis returns in PutRecords results.
const (
	ErrThroughputExceeded = "ProvisionedThroughputExceededException"
	ErrInternalFailure    = "InternalFailure"
)

const (
	putRecordsTarget = "Kinesis_20131202.PutRecords"
	jsonContentType  = "application/x-amz-json-1.1"
)

// Entry is one PutRecords entry, as a fault chooser sees it.
type Entry struct {
	Call         int // PutRecords calls through this proxy so far, this one included
	Index        int // position in the call
	PartitionKey string
	Data         []byte
}

// CallFault is the error answer to a whole call.
type CallFault struct {
	Status  int
	Code    string
	Message string
	// Reset answers by resetting the connection instead (Status, Code and
	// Message are not used): the client gets no HTTP answer at all.
	Reset bool
	// AfterWrite forwards the call whole to the emulator, which writes its
	// records, and then answers with the fault instead of the emulator's
	// answer. Without it, the call never reaches the emulator.
	AfterWrite bool
}

// Whole-call faults as Kinesis reports them, and broken connections.
var (
	Throttled   = CallFault{Status: http.StatusBadRequest, Code: ErrThroughputExceeded, Message: "Rate exceeded for stream (injected by faultproxy)"}
	ServerError = CallFault{Status: http.StatusInternalServerError, Code: ErrInternalFailure, Message: "Internal service failure (injected by faultproxy)"}
	// Reset breaks the connection before the call is written.
	Reset = CallFault{Reset: true}
	// LostAnswer writes the call, then answers 500 InternalFailure.
	LostAnswer = CallFault{Status: http.StatusInternalServerError, Code: ErrInternalFailure,
		Message: "Internal service failure after the write (injected by faultproxy)", AfterWrite: true}
	// ResetAfterWrite writes the call, then breaks the connection.
	ResetAfterWrite = CallFault{Reset: true, AfterWrite: true}
)

// Stats count what the proxy did to PutRecords calls.
type Stats struct {
	Calls            int // PutRecords calls received
	FailedCalls      int // answered with a CallFault, AfterWrite ones included
	LostAnswers      int // of FailedCalls, those written before the fault (AfterWrite)
	FailedEntries    int // entries failed and not forwarded
	ForwardedEntries int // entries passed on to the emulator, AfterWrite calls included
}

// Proxy is an http.Handler; serve it with httptest.NewServer and point the
// client's BaseEndpoint at the server.
type Proxy struct {
	forward *httputil.ReverseProxy

	mu        sync.Mutex
	failEntry func(Entry) string
	failCall  func(call int) *CallFault
	stats     Stats
}

// New returns a proxy to target (e.g. emulator.URL()) that injects nothing
// until FailEntries or FailCalls say otherwise.
func New(target string) (*Proxy, error) {
	forward, err := reverseProxy(target, spliceFailures)
	if err != nil {
		return nil, err
	}
	return &Proxy{forward: forward}, nil
}

// reverseProxy forwards to target and lets rewrite change each answer; a
// transport error becomes a 502 that names it.
func reverseProxy(target string, rewrite func(*http.Response) error) (*httputil.ReverseProxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("faultproxy: target %q is not an absolute URL", target)
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(u)
			// Uncompressed answers, so that they can be rewritten.
			pr.Out.Header.Del("Accept-Encoding")
		},
		ModifyResponse: rewrite,
		ErrorHandler: func(w http.ResponseWriter, _ *http.Request, err error) {
			http.Error(w, "faultproxy: "+err.Error(), http.StatusBadGateway)
		},
	}, nil
}

// FailEntries sets the chooser of entry faults: it returns the ErrorCode an
// entry fails with, or "" to let it through. nil fails none. The proxy calls
// it under a lock, in request order.
func (p *Proxy) FailEntries(choose func(Entry) string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failEntry = choose
}

// FailCalls sets the chooser of whole-call faults, given the call's number
// (from 1); nil from it lets the call through. A nil chooser fails none.
func (p *Proxy) FailCalls(choose func(call int) *CallFault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.failCall = choose
}

// Stats returns the counts so far.
func (p *Proxy) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// RandomEntries returns an entry chooser that fails each entry with the given
// probability, alternating at random between ErrThroughputExceeded and
// ErrInternalFailure; the same seed fails the same entries of the same
// sequence of calls. It keeps state: give each proxy its own.
func RandomEntries(seed uint64, probability float64) func(Entry) string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	return func(Entry) string {
		fail, internal := rng.Float64() < probability, rng.IntN(2) == 1
		switch {
		case !fail:
			return ""
		case internal:
			return ErrInternalFailure
		default:
			return ErrThroughputExceeded
		}
	}
}

// Always returns a call chooser that fails every call with f.
func Always(f CallFault) func(int) *CallFault { return func(int) *CallFault { return &f } }

func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get("X-Amz-Target") != putRecordsTarget {
		if isCBORPutRecords(r) {
			http.Error(w, "faultproxy: PutRecords in CBOR cannot be faulted; configure the client for awsJson1.1", http.StatusNotImplemented)
			return
		}
		p.forward.ServeHTTP(w, r)
		return
	}
	req, body, ok := readRequest(w, r, "PutRecords", jsonContentType)
	if !ok {
		return
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(req["Records"], &entries); err != nil {
		http.Error(w, "faultproxy: PutRecords Records: "+err.Error(), http.StatusBadRequest)
		return
	}

	codes, callFault, err := p.decide(entries)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusBadRequest)
		return
	}
	if callFault != nil {
		if callFault.AfterWrite {
			fwd := r.Clone(r.Context())
			fwd.Body = io.NopCloser(bytes.NewReader(body))
			fwd.ContentLength = int64(len(body))
			answer := httptest.NewRecorder()
			p.forward.ServeHTTP(answer, fwd)
			if answer.Code != http.StatusOK { // not written after all: say so rather than pretend
				http.Error(w, fmt.Sprintf("faultproxy: the emulator refused a call to be written (%d): %s", answer.Code, answer.Body), http.StatusBadGateway)
				return
			}
		}
		if callFault.Reset {
			resetConnection(w)
			return
		}
		writeAPIError(w, *callFault)
		return
	}
	var kept []json.RawMessage
	for i, e := range entries {
		if codes[i] == "" {
			kept = append(kept, e)
		}
	}
	if len(kept) == 0 {
		writeJSON(w, http.StatusOK, mergeResults(codes, nil, 0))
		return
	}
	req["Records"], _ = json.Marshal(kept) // re-marshalling RawMessages cannot fail
	out, _ := json.Marshal(req)
	fwd := r.Clone(context.WithValue(r.Context(), injectedKey{}, codes))
	fwd.Body = io.NopCloser(bytes.NewReader(out))
	fwd.ContentLength = int64(len(out))
	fwd.Header.Set("Content-Length", strconv.Itoa(len(out)))
	p.forward.ServeHTTP(w, fwd)
}

// decide counts the call and asks the choosers about it.
func (p *Proxy) decide(entries []json.RawMessage) (codes []string, callFault *CallFault, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.stats.Calls++
	call := p.stats.Calls
	if p.failCall != nil {
		if f := p.failCall(call); f != nil {
			p.stats.FailedCalls++
			if f.AfterWrite {
				p.stats.LostAnswers++
				p.stats.ForwardedEntries += len(entries)
			}
			return nil, f, nil
		}
	}
	codes = make([]string, len(entries))
	for i, raw := range entries {
		var e struct {
			Data         []byte // base64 in JSON
			PartitionKey string
		}
		if err := json.Unmarshal(raw, &e); err != nil {
			return nil, nil, fmt.Errorf("PutRecords entry %d: %w", i, err)
		}
		if p.failEntry != nil {
			codes[i] = p.failEntry(Entry{Call: call, Index: i, PartitionKey: e.PartitionKey, Data: e.Data})
		}
		if codes[i] == "" {
			p.stats.ForwardedEntries++
		} else {
			p.stats.FailedEntries++
		}
	}
	return codes, nil, nil
}

type injectedKey struct{}

// spliceFailures puts the injected failures back into the emulator's answer
// at their positions.
func spliceFailures(resp *http.Response) error {
	codes, _ := resp.Request.Context().Value(injectedKey{}).([]string)
	if codes == nil || resp.StatusCode != http.StatusOK {
		return nil // not a faulted call, or an error answer: pass it on as is
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return fmt.Errorf("read PutRecords answer: %w", err)
	}
	var answer struct {
		FailedRecordCount int
		Records           []json.RawMessage
	}
	if err := json.Unmarshal(body, &answer); err != nil {
		return fmt.Errorf("PutRecords answer is not JSON: %w", err)
	}
	var extra map[string]json.RawMessage // e.g. EncryptionType, kept as is
	_ = json.Unmarshal(body, &extra)
	merged := mergeResults(codes, answer.Records, answer.FailedRecordCount)
	for k, v := range extra {
		if _, ours := merged[k]; !ours {
			merged[k] = v
		}
	}
	out, err := json.Marshal(merged)
	if err != nil {
		return err
	}
	resp.Body = io.NopCloser(bytes.NewReader(out))
	resp.ContentLength = int64(len(out))
	resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
	resp.Header.Del("X-Amz-Crc32") // the body changed
	return nil
}

// mergeResults builds a PutRecords answer from the injected codes and the
// results of the forwarded entries, in request order.
func mergeResults(codes []string, forwarded []json.RawMessage, forwardedFailures int) map[string]json.RawMessage {
	results := make([]json.RawMessage, 0, len(codes))
	failed := forwardedFailures
	next := 0
	for _, code := range codes {
		if code == "" {
			if next < len(forwarded) {
				results = append(results, forwarded[next])
			} else { // the emulator answered too few results: say so in the result
				results = append(results, failure(ErrInternalFailure, "faultproxy: emulator returned no result for this entry"))
				failed++
			}
			next++
			continue
		}
		results = append(results, failure(code, injectedMessage(code)))
		failed++
	}
	records, _ := json.Marshal(results)
	count, _ := json.Marshal(failed)
	return map[string]json.RawMessage{"FailedRecordCount": count, "Records": records}
}

func failure(code, message string) json.RawMessage {
	b, _ := json.Marshal(map[string]string{"ErrorCode": code, "ErrorMessage": message})
	return b
}

func injectedMessage(code string) string {
	if code == ErrInternalFailure {
		return "Internal service failure."
	}
	return "Rate exceeded for shard (injected by faultproxy)."
}

// resetConnection closes the client's connection with a TCP reset and no
// answer.
func resetConnection(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // the server drops the connection
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // RST rather than FIN
	}
	_ = conn.Close()
}

func writeAPIError(w http.ResponseWriter, f CallFault) {
	w.Header().Set("X-Amzn-ErrorType", f.Code)
	writeJSON(w, f.Status, map[string]string{"__type": f.Code, "message": f.Message})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "faultproxy: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", jsonContentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// isCBORPutRecords recognises PutRecords in the rpc-v2-cbor protocol, where
// the operation is in the path rather than in X-Amz-Target.
func isCBORPutRecords(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	cbor := ct == "application/cbor" || strings.EqualFold(r.Header.Get("Smithy-Protocol"), "rpc-v2-cbor")
	return cbor && strings.HasSuffix(r.URL.Path, "/operation/PutRecords")
}

// readRequest reads a JSON request of operation op, parsed and as it came;
// on a wrong content type or a body that is not a JSON object it answers the
// error itself and reports false.
func readRequest(w http.ResponseWriter, r *http.Request, op, contentType string) (map[string]json.RawMessage, []byte, bool) {
	if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != contentType {
		http.Error(w, fmt.Sprintf("faultproxy: %s with Content-Type %q; only %s is understood", op, ct, contentType), http.StatusUnsupportedMediaType)
		return nil, nil, false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "faultproxy: read request: "+err.Error(), http.StatusBadRequest)
		return nil, nil, false
	}
	var req map[string]json.RawMessage
	if err := json.Unmarshal(body, &req); err != nil {
		http.Error(w, "faultproxy: "+op+" request is not JSON: "+err.Error(), http.StatusBadRequest)
		return nil, nil, false
	}
	return req, body, true
}

// Command adapter connects the appc/spec Go library (v0.8.11, GOPATH build)
// to the conformance harness. It speaks the adapter protocol, version 1.1:
// one JSON request per line on stdin, one JSON answer per line on stdout,
// in request order. Logs go to stderr. When the adapter itself cannot run a
// request (a malformed request, a panic) it answers "failed" (protocol 1.1),
// or, to a harness that did not announce protocol_minor 1, an error of kind
// "other".
//
// Profile: appc-0.8.11 on a tree whose app string parser makes ':' the
// version label (Debian's v0.8.11); appc-imagetags on a tree whose parser
// makes it a tag (appc/spec pull request 584). Ops: parse_app,
// validate_manifest, discover, resolve, and, where the tree has the image tags
// API, validate_imagetags, resolve_tag and merge_tag. What the tree offers is
// found by build.py with probes compiled against it; it selects the lib_*.go
// files of this folder with build tags (see the files' go:build lines). The
// adapter only translates: every verdict comes from the library
// (discovery.NewAppFromString, discovery.DiscoverACIEndpoints,
// discovery.DiscoverPublicKeys, discovery.DiscoverImageTags,
// schema.ImageTags, schema.ImageManifest's JSON decoding).
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime/debug"
	"strings"

	"github.com/appc/spec/discovery"
	"github.com/appc/spec/schema"
	"github.com/appc/spec/schema/types"
)

const (
	protocolVersion = 1
	failedMinor     = 1 // the protocol minor version that has the "failed" answer
	profile0811     = "appc-0.8.11"
	profileTags     = "appc-imagetags"
	libVersion      = "0.8.11"
)

// opFunc runs one op on its arguments; an error is a malformed request.
type opFunc func(args map[string]json.RawMessage) (answer, error)

// ops are the ops this build answers, in the order the hello lists them: the ones every tree has,
// then those a lib_*.go file of this build registers (registerOp, from its init).
var ops = []string{"parse_app", "validate_manifest", "discover", "resolve"}

var extraOps = map[string]opFunc{}

func registerOp(name string, f opFunc) {
	ops = append(ops, name)
	extraOps[name] = f
}

// claimedProfile is the one profile this build's code follows: appc-imagetags where the app string
// parser makes the value after ':' a tag (lib_apptag.go), appc-0.8.11 where it makes it the
// version label.
func claimedProfile() string {
	if colonIsTag {
		return profileTags
	}
	return profile0811
}

// treeVersion is how messages name the tree: "0.8.11" for Debian's library, else the version the
// hello reports.
func treeVersion() string {
	if specLabel == "" {
		return libVersion
	}
	return reportedVersion()
}

// specLabel is set by build.py (-ldflags -X main.specLabel=...) when the adapter is built
// against another appc/spec tree than Debian's: "+NAME.COMMIT", added to the tree's own
// version in the hello, so results say which tree was tested.
var specLabel string

// reportedVersion is the library version the hello reports.
func reportedVersion() string {
	if specLabel == "" {
		return libVersion
	}
	return schema.AppContainerVersion.String() + specLabel
}

// request is one line from the harness. Fields stay raw so that a bad field
// still lets the adapter echo the id and say what was wrong.
type request struct {
	ID   json.RawMessage `json:"id"`
	Op   json.RawMessage `json:"op"`
	Args json.RawMessage `json:"args"`

	// hello only
	Protocol      json.RawMessage `json:"protocol"`
	ProtocolMinor json.RawMessage `json:"protocol_minor"`
	Profile       json.RawMessage `json:"profile"`
	CAFile        json.RawMessage `json:"ca_file"`
}

// answer is built by the handlers; exactly one of ok, err, unsupported, failed is set.
type answer struct {
	ok          interface{}
	errKind     string
	errMessage  string
	unsupported string
	isErr       bool
	isUnsupp    bool
	isFailed    bool // the adapter could not run the request: never the library's verdict
}

func okAnswer(v interface{}) answer { return answer{ok: v} }

func errAnswer(kind, format string, a ...interface{}) answer {
	return answer{isErr: true, errKind: kind, errMessage: fmt.Sprintf(format, a...)}
}

// failedAnswer: the adapter (not the library) could not run the request.
func failedAnswer(format string, a ...interface{}) answer {
	return answer{isFailed: true, errMessage: fmt.Sprintf(format, a...)}
}

func unsupportedAnswer(format string, a ...interface{}) answer {
	return answer{isUnsupp: true, unsupported: fmt.Sprintf(format, a...)}
}

// badRequest is an error in the request itself (not a verdict of the library).
type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }

func badf(format string, a ...interface{}) error {
	return badRequest{fmt.Sprintf(format, a...)}
}

type session struct {
	out       *bufio.Writer
	helloSeen bool
	declined  string // non-empty: the profile was declined, with this reason
	caLoaded  bool
	canFail   bool // the hello said protocol_minor >= 1: "failed" answers are understood
}

func main() {
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	s := &session{out: bufio.NewWriter(os.Stdout)}
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			s.handleLine(line)
		}
		if err != nil {
			if err != io.EOF {
				fmt.Fprintf(os.Stderr, "adapter: reading stdin: %v\n", err)
			}
			return
		}
	}
}

// handleLine answers one request line; it never panics.
func (s *session) handleLine(line []byte) {
	var id json.RawMessage
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "adapter: panic: %v\n%s", r, debug.Stack())
			s.write(id, false, failedAnswer("adapter panic: %v", r))
		}
	}()

	var req request
	if err := json.Unmarshal(line, &req); err != nil {
		// Not a JSON object: try to recover an id anyway (e.g. {"id": 3, "op": 5}).
		var loose map[string]json.RawMessage
		if json.Unmarshal(line, &loose) == nil {
			id = loose["id"]
		}
		s.write(id, false, failedAnswer("malformed request: %v", err))
		return
	}
	id = req.ID

	var op string
	if len(req.Op) == 0 || json.Unmarshal(req.Op, &op) != nil {
		s.write(id, false, failedAnswer("malformed request: \"op\" must be a string"))
		return
	}
	if op == "hello" {
		s.write(id, true, s.hello(&req))
		return
	}
	if len(id) == 0 || string(id) == "null" {
		// Still answer, so that answers stay in request order.
		s.write(id, false, failedAnswer("malformed request: missing \"id\""))
		return
	}
	if s.declined != "" {
		s.write(id, false, unsupportedAnswer("%s", s.declined))
		return
	}
	s.write(id, false, s.dispatch(op, req.Args))
}

func (s *session) write(id json.RawMessage, isHello bool, a answer) {
	obj := map[string]interface{}{}
	if len(id) > 0 {
		obj["id"] = id
	} else if !isHello {
		obj["id"] = nil
	}
	if a.isFailed && !s.canFail { // a harness of protocol 1.0 knows no "failed"
		a = errAnswer("other", "%s", a.errMessage)
	}
	switch {
	case a.isUnsupp:
		obj["unsupported"] = a.unsupported
	case a.isFailed:
		obj["failed"] = map[string]string{"message": a.errMessage}
	case a.isErr:
		obj["error"] = map[string]string{"kind": a.errKind, "message": a.errMessage}
	default:
		obj["ok"] = a.ok
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		buf.Reset()
		fallback := map[string]interface{}{"id": id,
			"error": map[string]string{"kind": "other", "message": "cannot encode answer: " + err.Error()}}
		if s.canFail {
			delete(fallback, "error")
			fallback["failed"] = map[string]string{"message": "cannot encode answer: " + err.Error()}
		}
		if len(id) == 0 {
			fallback["id"] = nil
		}
		enc.Encode(fallback)
	}
	s.out.Write(buf.Bytes()) // Encode ends the line with '\n'
	s.out.Flush()
}

// ---------------------------------------------------------------- hello

func (s *session) hello(req *request) answer {
	s.helloSeen = true
	s.declined = ""
	s.canFail = false
	if len(req.ProtocolMinor) > 0 && string(req.ProtocolMinor) != "null" {
		var minor float64
		if json.Unmarshal(req.ProtocolMinor, &minor) == nil && minor >= failedMinor {
			s.canFail = true
		}
	}
	if len(req.Protocol) > 0 && string(req.Protocol) != "null" {
		var p float64
		if json.Unmarshal(req.Protocol, &p) != nil {
			s.declined = "malformed hello: \"protocol\" must be a number"
			return unsupportedAnswer("%s", s.declined)
		}
		if p != protocolVersion {
			s.declined = fmt.Sprintf("adapter speaks protocol %d, not %v", protocolVersion, p)
			return unsupportedAnswer("%s", s.declined)
		}
	}
	var prof string
	if len(req.Profile) > 0 && string(req.Profile) != "null" {
		if json.Unmarshal(req.Profile, &prof) != nil {
			s.declined = "malformed hello: \"profile\" must be a string"
			return unsupportedAnswer("%s", s.declined)
		}
	} else {
		prof = profile0811
	}
	if prof != claimedProfile() {
		if colonIsTag {
			s.declined = fmt.Sprintf("appc/spec %s implements profile %s only, not %q (its app string "+
				"parser makes the value after ':' a tag, and its discovery fills no implied version)",
				treeVersion(), profileTags, prof)
		} else {
			s.declined = fmt.Sprintf("appc/spec %s implements profile %s only, not %q (no image tags)",
				treeVersion(), profile0811, prof)
		}
		return unsupportedAnswer("%s", s.declined)
	}

	features := []string{"host-headers"}
	if libDiscoveryPort {
		features = []string{"custom-port", "host-headers"}
	}
	var caFile string
	if len(req.CAFile) > 0 && string(req.CAFile) != "null" {
		if json.Unmarshal(req.CAFile, &caFile) != nil {
			fmt.Fprintln(os.Stderr, "adapter: hello: ca_file is not a string; ignored")
			caFile = ""
		}
	}
	if caFile != "" {
		if err := trustCAFile(caFile); err != nil {
			fmt.Fprintf(os.Stderr, "adapter: hello: ca_file %s not used: %v\n", caFile, err)
		} else {
			s.caLoaded = true
		}
	}
	if s.caLoaded {
		features = append(features, "ca-file")
	}
	return okAnswer(map[string]interface{}{
		"implementation": map[string]string{
			"name":     "appc-spec-go",
			"version":  reportedVersion(),
			"language": "go",
			"homepage": "https://github.com/appc/spec",
		},
		"profiles": []string{claimedProfile()},
		"ops":      ops,
		"features": features,
	})
}

// trustCAFile adds the PEM certificates of path to the roots that the
// library's exported discovery.Client trusts (system roots, which include
// SSL_CERT_FILE, plus these). The insecure-TLS client is left alone.
func trustCAFile(path string) error {
	pem, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return errors.New("no PEM certificate found")
	}
	if discovery.Client == nil {
		return errors.New("discovery.Client is nil")
	}
	t, ok := discovery.Client.Transport.(*http.Transport)
	if !ok {
		return fmt.Errorf("discovery.Client.Transport is a %T, not *http.Transport", discovery.Client.Transport)
	}
	cfg := &tls.Config{}
	if t.TLSClientConfig != nil {
		cfg = t.TLSClientConfig.Clone()
	}
	cfg.RootCAs = pool
	t.TLSClientConfig = cfg
	t.CloseIdleConnections()
	return nil
}

// Set by lib_*.go files of builds against a tree with the image tags API; nil otherwise.
var (
	// discoverImageTags runs the library's image tags discovery (discover, what "imagetags").
	discoverImageTags func(app *discovery.App, d *discoveryArgs) ([]imageTagsOut, []attemptOut, error)
	// resolveTag merges the app's tag into its labels as resolve does before it discovers the
	// image; a non-nil answer is the reply instead.
	resolveTag func(app *discovery.App, d *discoveryArgs) (*discovery.App, []attemptOut, *answer)
)

type imageTagsOut struct {
	URL string `json:"url"`
	ASC string `json:"asc"`
}

// ---------------------------------------------------------------- dispatch

func (s *session) dispatch(op string, rawArgs json.RawMessage) answer {
	known := false
	for _, o := range ops {
		known = known || o == op
	}
	if !known {
		return unsupportedAnswer("op %q is not implemented by the appc/spec %s adapter", op, treeVersion())
	}
	args := map[string]json.RawMessage{}
	if len(rawArgs) > 0 && string(rawArgs) != "null" {
		if err := json.Unmarshal(rawArgs, &args); err != nil {
			return failedAnswer("malformed request: \"args\" must be an object: %v", err)
		}
	}
	var a answer
	var err error
	switch op {
	case "parse_app":
		a, err = opParseApp(args)
	case "validate_manifest":
		a, err = opValidateManifest(args)
	case "discover":
		a, err = opDiscover(args)
	case "resolve":
		a, err = opResolve(args)
	default:
		a, err = extraOps[op](args)
	}
	if err != nil {
		return failedAnswer("malformed request: %v", err)
	}
	return a
}

// ---------------------------------------------------------------- args

func stringArg(args map[string]json.RawMessage, name string) (string, error) {
	raw, ok := args[name]
	if !ok || string(raw) == "null" {
		return "", badf("missing argument %q", name)
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", badf("argument %q must be a string", name)
	}
	return v, nil
}

func stringListArg(args map[string]json.RawMessage, name string) ([]string, bool, error) {
	raw, ok := args[name]
	if !ok || string(raw) == "null" {
		return nil, false, nil
	}
	var v []string
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, true, badf("argument %q must be a list of strings", name)
	}
	return v, true, nil
}

// discoveryArgs are the transport arguments shared by discover and resolve.
type discoveryArgs struct {
	port     uint
	insecure discovery.InsecureOption
	headers  map[string]http.Header
}

func parseDiscoveryArgs(args map[string]json.RawMessage) (*discoveryArgs, string, error) {
	d := &discoveryArgs{insecure: discovery.InsecureNone}

	if raw, ok := args["port"]; ok && string(raw) != "null" {
		var p float64
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, "", badf("argument \"port\" must be an integer or null")
		}
		if p != float64(int64(p)) || p < 0 || p > 65535 {
			return nil, "", badf("argument \"port\" must be an integer in 0..65535, not %v", p)
		}
		d.port = uint(p) // 0 means the default port, as for the library
		if d.port != 0 && !libDiscoveryPort {
			return nil, fmt.Sprintf("appc/spec %s: its discovery functions take no port", treeVersion()), nil
		}
	}

	insecure, _, err := stringListArg(args, "insecure")
	if err != nil {
		return nil, "", err
	}
	for _, v := range insecure {
		switch v {
		case "tls":
			d.insecure |= discovery.InsecureTLS
		case "http":
			d.insecure |= discovery.InsecureHTTP
		default:
			return nil, fmt.Sprintf("insecure option %q is not known to the adapter", v), nil
		}
	}

	if raw, ok := args["headers"]; ok && string(raw) != "null" {
		var hh map[string]map[string][]string
		if err := json.Unmarshal(raw, &hh); err != nil {
			return nil, "", badf("argument \"headers\" must be {\"host[:port]\": {header: [values]}}")
		}
		if len(hh) > 0 {
			d.headers = make(map[string]http.Header, len(hh))
			for host, hdrs := range hh {
				h := http.Header{}
				for k, vs := range hdrs {
					for _, v := range vs {
						h.Add(k, v)
					}
				}
				d.headers[host] = h
			}
		}
	}
	return d, "", nil
}

// ---------------------------------------------------------------- ops

// parseApp runs the library's app string parser and maps its error.
func parseApp(s string) (*discovery.App, *answer) {
	app, err := discovery.NewAppFromString(s)
	if err != nil {
		kind := "invalid-app-string"
		var ie types.ACIdentifierError
		if errors.As(err, &ie) {
			kind = "invalid-identifier"
		}
		a := errAnswer(kind, "%v", err)
		return nil, &a
	}
	if app == nil {
		a := failedAnswer("library returned neither an app nor an error")
		return nil, &a
	}
	return app, nil
}

func labelsOf(app *discovery.App) map[string]string {
	out := make(map[string]string, len(app.Labels))
	for k, v := range app.Labels {
		out[string(k)] = v
	}
	return out
}

func opParseApp(args map[string]json.RawMessage) (answer, error) {
	s, err := stringArg(args, "app")
	if err != nil {
		return answer{}, err
	}
	app, bad := parseApp(s)
	if bad != nil {
		return *bad, nil
	}
	return okAnswer(map[string]interface{}{
		"name":   app.Name.String(),
		"tag":    appTag(app), // null on a tree without tags (lib_noapptag.go)
		"labels": labelsOf(app),
	}), nil
}

func opValidateManifest(args map[string]json.RawMessage) (answer, error) {
	doc, err := stringArg(args, "document")
	if err != nil {
		return answer{}, err
	}
	var im schema.ImageManifest
	if err := json.Unmarshal([]byte(doc), &im); err != nil {
		return errAnswer("invalid-manifest", "%s", strings.TrimSpace(err.Error())), nil
	}
	return okAnswer(map[string]bool{"valid": true}), nil
}

type aciOut struct {
	ACI string `json:"aci"`
	ASC string `json:"asc"`
}

type attemptOut struct {
	Prefix string `json:"prefix"`
	Error  string `json:"error"`
	What   string `json:"what"` // extra key: which kind's walk made the attempt
}

func attemptsOut(what string, fa []discovery.FailedAttempt) []attemptOut {
	out := make([]attemptOut, 0, len(fa))
	for _, a := range fa {
		msg := ""
		if a.Error != nil {
			msg = a.Error.Error()
		}
		out = append(out, attemptOut{Prefix: a.Prefix, Error: msg, What: what})
	}
	return out
}

func describeFailure(what string, err error, attempts []attemptOut) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s discovery: ", what)
	if err != nil {
		b.WriteString(err.Error())
	} else {
		b.WriteString("nothing found")
	}
	for _, a := range attempts {
		fmt.Fprintf(&b, "; prefix %s: %s", a.Prefix, a.Error)
	}
	return b.String()
}

func discoverACI(app *discovery.App, d *discoveryArgs) ([]aciOut, []attemptOut, error) {
	eps, fa, err := libDiscoverACI(*app, d.headers, d.insecure, d.port)
	att := attemptsOut("aci", fa)
	if err == nil && len(eps) == 0 {
		err = errors.New("no endpoint found")
	}
	if err != nil {
		return nil, att, err
	}
	out := make([]aciOut, 0, len(eps))
	for _, e := range eps {
		out = append(out, aciOut{ACI: e.ACI, ASC: e.ASC})
	}
	return out, att, nil
}

func discoverKeys(app *discovery.App, d *discoveryArgs) ([]string, []attemptOut, error) {
	keys, fa, err := libDiscoverKeys(*app, d.headers, d.insecure, d.port)
	att := attemptsOut("pubkeys", fa)
	if err == nil && len(keys) == 0 {
		err = errors.New("no key found")
	}
	if err != nil {
		return nil, att, err
	}
	return append([]string{}, keys...), att, nil
}

func opDiscover(args map[string]json.RawMessage) (answer, error) {
	s, err := stringArg(args, "app")
	if err != nil {
		return answer{}, err
	}
	what, given, err := stringListArg(args, "what")
	if err != nil {
		return answer{}, err
	}
	if !given {
		what = []string{"aci", "pubkeys"}
	}
	for _, w := range what {
		switch w {
		case "aci", "pubkeys":
		case "imagetags":
			if discoverImageTags == nil {
				return unsupportedAnswer("appc/spec %s has no image tags discovery", treeVersion()), nil
			}
		default:
			return unsupportedAnswer("discovery of %q is not known to the adapter", w), nil
		}
	}
	app, d, reply, err := discoveryInput(args, s)
	if reply != nil || err != nil {
		return derefAnswer(reply), err
	}

	result := map[string]interface{}{}
	attempts := []attemptOut{}
	done := map[string]bool{}
	for _, w := range what {
		if done[w] {
			continue
		}
		done[w] = true
		switch w {
		case "aci":
			eps, att, err := discoverACI(app, d)
			attempts = append(attempts, att...)
			if err != nil {
				return errAnswer("discovery-failed", "%s", describeFailure("aci", err, att)), nil
			}
			result["aci"] = eps
		case "pubkeys":
			keys, att, err := discoverKeys(app, d)
			attempts = append(attempts, att...)
			if err != nil {
				return errAnswer("discovery-failed", "%s", describeFailure("pubkeys", err, att)), nil
			}
			result["pubkeys"] = keys
		case "imagetags":
			docs, att, err := discoverImageTags(app, d)
			attempts = append(attempts, att...)
			if err != nil {
				return errAnswer("discovery-failed", "%s", describeFailure("imagetags", err, att)), nil
			}
			result["imagetags"] = docs
		}
	}
	result["attempts"] = attempts
	return okAnswer(result), nil
}

// discoveryInput reads what discover and resolve share: the options and the app string. A
// non-nil answer is the reply to give instead (options the adapter cannot honour, or an app
// string the library rejects); an error is a malformed request.
func discoveryInput(args map[string]json.RawMessage, s string) (*discovery.App, *discoveryArgs, *answer, error) {
	d, unsupp, err := parseDiscoveryArgs(args)
	if err != nil {
		return nil, nil, nil, err
	}
	if unsupp != "" {
		a := unsupportedAnswer("%s", unsupp)
		return nil, nil, &a, nil
	}
	app, bad := parseApp(s)
	if bad != nil {
		return nil, nil, bad, nil
	}
	return app, d, nil, nil
}

func derefAnswer(a *answer) answer {
	if a == nil {
		return answer{}
	}
	return *a
}

func opResolve(args map[string]json.RawMessage) (answer, error) {
	s, err := stringArg(args, "app")
	if err != nil {
		return answer{}, err
	}
	app, d, reply, err := discoveryInput(args, s)
	if reply != nil || err != nil {
		return derefAnswer(reply), err
	}
	// appc-0.8.11 has no tags: the labels as parsed are final, and the image is discovered, then
	// the keys. On a tree with tags the library leaves the order to its caller, and the adapter
	// takes the draft's (DISC-PR-05): keys, then (only with a tag) the image tags document merged
	// into the labels (resolveTag, lib_resolvetags.go), then the image with the final labels.
	attempts := []attemptOut{}
	var keys []string
	keysDone := false
	if colonIsTag {
		k, katt, kerr := discoverKeys(app, d)
		attempts = append(attempts, katt...)
		if kerr != nil {
			k = []string{} // keys found nowhere: an empty list, not an error
		}
		keys, keysDone = k, true
	}
	if appHasTag(app) {
		if resolveTag == nil {
			return unsupportedAnswer("appc/spec %s cannot resolve a tag: it has no image tags API", treeVersion()), nil
		}
		merged, att, reply := resolveTag(app, d)
		attempts = append(attempts, att...)
		if reply != nil {
			return *reply, nil
		}
		app = merged
	}
	eps, att, err := discoverACI(app, d)
	attempts = append(attempts, att...)
	if err != nil {
		return errAnswer("discovery-failed", "%s", describeFailure("aci", err, att)), nil
	}
	if !keysDone {
		k, katt, kerr := discoverKeys(app, d)
		attempts = append(attempts, katt...)
		if kerr != nil {
			k = []string{} // keys found nowhere: an empty list, not an error
		}
		keys = k
	}
	return okAnswer(map[string]interface{}{
		"labels":   labelsOf(app),
		"aci":      eps,
		"pubkeys":  keys,
		"attempts": attempts,
	}), nil
}

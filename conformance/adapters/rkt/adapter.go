// Command adapter connects rkt's own image code to the conformance harness.
//
// It is built by build.py inside a private copy of an rkt source tree (GOPATH
// mode, rkt's vendor/), so it imports rkt's packages as rkt's own commands do.
// It speaks the adapter protocol 1.1 (docs/ADAPTERS.md): one JSON request per
// line on stdin, one answer per line on the protocol descriptor; everything
// rkt prints (its own stdout and stderr logs) goes to stderr.
//
// Profile: appc-0.8.11 only (rkt predates image tags). Ops:
//
//   - parse_app: the image string read by rkt's image.DistFromImageString, the
//     function `rkt fetch IMAGE` starts with; a string rkt reads as something
//     else than an appc image name (a path, an archive URL, a docker image) is
//     an error of kind invalid-app-string saying what rkt took it for.
//   - discover: image endpoints as rkt's name fetcher discovers them (the app
//     with rkt's default os and arch labels, default ports), public keys as
//     rkt's key manager discovers them for the name (rkt trust / fetch).
//   - fetch: rkt's image.Fetcher (the `rkt fetch` defaults: pull policy
//     "update", dependencies fetched) in a scratch data folder and a scratch
//     configuration per request.
//
// The adapter only maps. Every verdict (signature, key, manifest, image ID,
// size) is rkt's; the adapter classifies rkt's error into an error kind. The
// notes member of the hello answer says what is mapped and what cannot be.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/ioutil"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/appc/spec/discovery"
	"github.com/appc/spec/schema"
	"github.com/appc/spec/schema/types"
	"github.com/hashicorp/errwrap"
	pgperrors "golang.org/x/crypto/openpgp/errors"

	"github.com/rkt/rkt/common"
	"github.com/rkt/rkt/common/apps"
	dist "github.com/rkt/rkt/pkg/distribution"
	"github.com/rkt/rkt/pkg/keystore"
	"github.com/rkt/rkt/rkt/config"
	rktflag "github.com/rkt/rkt/rkt/flag"
	"github.com/rkt/rkt/rkt/image"
	"github.com/rkt/rkt/rkt/pubkey"
	"github.com/rkt/rkt/stage0"
	"github.com/rkt/rkt/store/imagestore"
	"github.com/rkt/rkt/store/treestore"
)

const (
	protocolVersion = 1
	failedMinor     = 1
	profile0811     = "appc-0.8.11"
)

var ops = []string{"parse_app", "discover", "fetch"}

// Set by build.py with -ldflags -X: the tree's version (configure.ac) and its label
// ("+COMMIT12[-dirty]" or "" outside git).
var (
	treeVersion = "unknown"
	treeLabel   = ""
)

// notes: what the adapter maps onto rkt, and what it cannot (sent in the hello as an extra
// member, which the harness ignores; the same text is in the adapter's documentation).
var notes = []string{
	"parse_app: rkt's image.DistFromImageString (what rkt fetch/run do with an image argument), run in an empty scratch folder",
	"discover: images with rkt's default os/arch labels added (as rkt's fetcher does); keys as rkt's pubkey manager discovers them for the name",
	"fetch: rkt's image.Fetcher with rkt fetch's defaults (pull policy update, dependencies on), a scratch store, keystore and configuration per request",
	"trust.keys: added as `rkt trust --prefix P` (accepted) does, root keys (`rkt trust --root`) for the empty prefix",
	"trust.verify_signatures=false: --insecure-options=image; trust_discovered_keys=true: --trust-keys-from-https",
	"insecure: tls -> --insecure-options=tls,pubkey; http -> --insecure-options=http,pubkey",
	"headers: only an Authorization header of type Basic or Bearer, as an auth.d configuration (type basic / oauth) for that host; anything else is unsupported",
	"port: rkt reaches hosts on the default ports only (no custom-port)",
	"dependency: fetched as rkt fetches the dependencies of an image in its store (pull policy new, as rkt run): a scratch parent image whose manifest lists this dependency",
}

func reportedVersion() string { return treeVersion + treeLabel }

// ---------------------------------------------------------------- protocol

type request struct {
	ID            json.RawMessage `json:"id"`
	Op            json.RawMessage `json:"op"`
	Args          json.RawMessage `json:"args"`
	Protocol      json.RawMessage `json:"protocol"`
	ProtocolMinor json.RawMessage `json:"protocol_minor"`
	Profile       json.RawMessage `json:"profile"`
	CAFile        json.RawMessage `json:"ca_file"`
}

type answer struct {
	ok          interface{}
	kind        string
	message     string
	unsupported string
	mode        int // 0 ok, 1 error, 2 unsupported, 3 failed
}

func okAnswer(v interface{}) answer { return answer{ok: v} }
func errAnswer(kind, format string, a ...interface{}) answer {
	return answer{mode: 1, kind: kind, message: fmt.Sprintf(format, a...)}
}
func unsupportedAnswer(format string, a ...interface{}) answer {
	return answer{mode: 2, unsupported: fmt.Sprintf(format, a...)}
}
func failedAnswer(format string, a ...interface{}) answer {
	return answer{mode: 3, message: fmt.Sprintf(format, a...)}
}

type badRequest struct{ msg string }

func (b badRequest) Error() string { return b.msg }
func badf(format string, a ...interface{}) error {
	return badRequest{fmt.Sprintf(format, a...)}
}

type session struct {
	out      *bufio.Writer
	declined string
	canFail  bool
	scratch  string // the empty folder the adapter works in
}

func main() {
	// rkt's packages print to os.Stdout (key fingerprints, "Trusting ..."): the protocol gets
	// a copy of the original stdout, and descriptor 1 becomes stderr.
	fd, err := syscall.Dup(1)
	if err != nil {
		fmt.Fprintf(os.Stderr, "rkt adapter: cannot duplicate stdout: %v\n", err)
		os.Exit(2)
	}
	proto := os.NewFile(uintptr(fd), "protocol")
	if err := syscall.Dup2(2, 1); err != nil {
		fmt.Fprintf(os.Stderr, "rkt adapter: cannot redirect stdout: %v\n", err)
		os.Exit(2)
	}
	sweepStale(os.TempDir())
	scratch, err := ioutil.TempDir("", fmt.Sprintf("rkt-adapter-%d-", os.Getpid()))
	if err != nil {
		fmt.Fprintf(os.Stderr, "rkt adapter: %v\n", err)
		os.Exit(2)
	}
	defer os.RemoveAll(scratch)
	cwd := filepath.Join(scratch, "cwd")
	// guessAppcOrPath stats the image string as a relative path: an empty folder keeps the
	// answers independent of where the harness runs.
	if err := os.Mkdir(cwd, 0700); err == nil {
		os.Chdir(cwd)
	}
	s := &session{out: bufio.NewWriter(proto), scratch: scratch}
	in := bufio.NewReaderSize(os.Stdin, 1<<16)
	for {
		line, err := in.ReadBytes('\n')
		if len(bytes.TrimSpace(line)) > 0 {
			s.handleLine(line)
		}
		if err != nil {
			return
		}
	}
}

// sweepStale removes the scratch folders of adapters of this user that are gone (a process
// killed after a timeout never removes its own): rkt-adapter-PID-* whose PID no longer exists.
func sweepStale(base string) {
	matches, _ := filepath.Glob(filepath.Join(base, "rkt-adapter-*-*"))
	for _, m := range matches {
		parts := strings.Split(filepath.Base(m), "-")
		if len(parts) != 4 {
			continue
		}
		pid, err := strconv.Atoi(parts[2])
		if err != nil || pid <= 0 {
			continue
		}
		fi, err := os.Lstat(m)
		if err != nil || !fi.IsDir() {
			continue
		}
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || int(st.Uid) != os.Getuid() {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			os.RemoveAll(m)
		}
	}
}

func (s *session) handleLine(line []byte) {
	var id json.RawMessage
	hello := false
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stderr, "rkt adapter: panic: %v\n%s", r, debug.Stack())
			s.write(id, hello, failedAnswer("adapter panic: %v", r))
		}
	}()
	var req request
	if err := json.Unmarshal(line, &req); err != nil {
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
		hello = true
		s.write(id, true, s.hello(&req))
		return
	}
	if len(id) == 0 || string(id) == "null" {
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
	if a.mode == 3 && !s.canFail {
		a = errAnswer("other", "%s", a.message)
	}
	switch a.mode {
	case 0:
		obj["ok"] = a.ok
	case 1:
		obj["error"] = map[string]string{"kind": a.kind, "message": a.message}
	case 2:
		obj["unsupported"] = a.unsupported
	case 3:
		obj["failed"] = map[string]string{"message": a.message}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(obj); err != nil {
		buf.Reset()
		enc.Encode(map[string]interface{}{"id": id, "failed": map[string]string{"message": "cannot encode answer: " + err.Error()}})
	}
	s.out.Write(buf.Bytes())
	s.out.Flush()
}

func (s *session) hello(req *request) answer {
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
		if json.Unmarshal(req.Protocol, &p) != nil || p != protocolVersion {
			s.declined = fmt.Sprintf("the rkt adapter speaks protocol %d only", protocolVersion)
			return unsupportedAnswer("%s", s.declined)
		}
	}
	prof := profile0811
	if len(req.Profile) > 0 && string(req.Profile) != "null" {
		if json.Unmarshal(req.Profile, &prof) != nil {
			s.declined = "malformed hello: \"profile\" must be a string"
			return unsupportedAnswer("%s", s.declined)
		}
	}
	if prof != profile0811 {
		s.declined = fmt.Sprintf("rkt implements profile %s only, not %q (it predates image tags)", profile0811, prof)
		return unsupportedAnswer("%s", s.declined)
	}
	features := []string{"host-headers"}
	var caFile string
	if len(req.CAFile) > 0 && string(req.CAFile) != "null" {
		json.Unmarshal(req.CAFile, &caFile)
	}
	// rkt's HTTP clients use Go's system roots, which honour SSL_CERT_FILE; the harness sets it
	// to ca_file. A ca_file alone is put there before the first TLS connection loads the roots.
	if caFile != "" {
		if os.Getenv("SSL_CERT_FILE") == "" {
			os.Setenv("SSL_CERT_FILE", caFile)
		}
		if os.Getenv("SSL_CERT_FILE") == caFile {
			features = append(features, "ca-file")
		}
	}
	return okAnswer(map[string]interface{}{
		"implementation": map[string]string{
			"name":     "rkt",
			"version":  reportedVersion(),
			"language": "go",
			"homepage": "https://github.com/rkt/rkt",
		},
		"profiles": []string{profile0811},
		"ops":      ops,
		"features": features,
		"notes":    notes,
	})
}

func (s *session) dispatch(op string, raw json.RawMessage) answer {
	args := map[string]json.RawMessage{}
	if len(raw) > 0 && string(raw) != "null" {
		if err := json.Unmarshal(raw, &args); err != nil {
			return failedAnswer("malformed request: \"args\" must be an object: %v", err)
		}
	}
	var a answer
	var err error
	switch op {
	case "parse_app":
		a, err = opParseApp(args)
	case "discover":
		a, err = s.opDiscover(args)
	case "fetch":
		a, err = s.opFetch(args)
	default:
		return unsupportedAnswer("op %q is not implemented by the rkt adapter", op)
	}
	if err != nil {
		return failedAnswer("malformed request: %v", err)
	}
	return a
}

// ---------------------------------------------------------------- arguments

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

// options: what the transport arguments become in rkt's terms.
type options struct {
	flags   *rktflag.SecFlags
	headers map[string]config.Headerer
	cfgDir  string // the scratch configuration folder holding auth.d (may be "")
}

// transport maps port, insecure and headers. A non-empty string is the unsupported reason.
// dir is a scratch folder for the configuration.
func transport(args map[string]json.RawMessage, dir string, verify bool) (*options, string, error) {
	if raw, ok := args["port"]; ok && string(raw) != "null" {
		var p float64
		if err := json.Unmarshal(raw, &p); err != nil || p != float64(int64(p)) || p < 0 || p > 65535 {
			return nil, "", badf("argument \"port\" must be an integer in 0..65535 or null")
		}
		if p != 0 {
			return nil, "rkt reaches discovery and download hosts on the default ports only (no port option)", nil
		}
	}
	insecure, _, err := stringListArg(args, "insecure")
	if err != nil {
		return nil, "", err
	}
	set := map[string]bool{}
	if !verify {
		set["image"] = true
	}
	for _, v := range insecure {
		switch v {
		case "tls", "http":
			set[v] = true
			set["pubkey"] = true
		default:
			return nil, fmt.Sprintf("insecure option %q has no rkt counterpart known to the adapter", v), nil
		}
	}
	names := []string{}
	for k := range set {
		names = append(names, k)
	}
	sort.Strings(names)
	spec := "none"
	if len(names) > 0 {
		spec = strings.Join(names, ",")
	}
	flags, err := rktflag.NewSecFlags(spec)
	if err != nil {
		return nil, "", fmt.Errorf("rkt refuses --insecure-options=%s: %v", spec, err)
	}
	o := &options{flags: flags, headers: map[string]config.Headerer{}}

	if raw, ok := args["headers"]; ok && string(raw) != "null" {
		var hh map[string]map[string][]string
		if err := json.Unmarshal(raw, &hh); err != nil {
			return nil, "", badf("argument \"headers\" must be {\"host[:port]\": {header: [values]}}")
		}
		if len(hh) > 0 {
			o.cfgDir = filepath.Join(dir, "config")
			authDir := filepath.Join(o.cfgDir, "auth.d")
			if err := os.MkdirAll(authDir, 0700); err != nil {
				return nil, "", err
			}
			hosts := make([]string, 0, len(hh))
			for h := range hh {
				hosts = append(hosts, h)
			}
			sort.Strings(hosts)
			for i, host := range hosts {
				doc, why := authConfig(host, hh[host])
				if why != "" {
					return nil, why, nil
				}
				if err := ioutil.WriteFile(filepath.Join(authDir, fmt.Sprintf("%02d.json", i)), doc, 0600); err != nil {
					return nil, "", err
				}
			}
			cfg, err := config.GetConfigFrom(o.cfgDir)
			if err != nil {
				return nil, fmt.Sprintf("rkt does not accept the auth configuration made from headers: %v", errText(err)), nil
			}
			o.headers = cfg.AuthPerHost
		}
	}
	return o, "", nil
}

// authConfig turns one host's headers into an rkt auth.d file (rktKind auth, v1), or says why
// rkt's configuration cannot express them.
func authConfig(host string, hdrs map[string][]string) ([]byte, string) {
	if len(hdrs) != 1 {
		return nil, fmt.Sprintf("rkt's per-host configuration sets one Authorization header; %d headers were asked for %s", len(hdrs), host)
	}
	var name string
	var values []string
	for k, v := range hdrs {
		name, values = k, v
	}
	if !strings.EqualFold(name, "Authorization") || len(values) != 1 {
		return nil, fmt.Sprintf("rkt's per-host configuration can send only one Authorization header (basic or bearer), not %s with %d value(s)", name, len(values))
	}
	value := values[0]
	doc := map[string]interface{}{"rktKind": "auth", "rktVersion": "v1", "domains": []string{host}}
	switch {
	case strings.HasPrefix(value, "Basic "):
		raw, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(value, "Basic "))
		parts := strings.SplitN(string(raw), ":", 2)
		if err != nil || len(parts) != 2 || parts[0] == "" || parts[1] == "" ||
			"Basic "+base64.StdEncoding.EncodeToString(raw) != value {
			return nil, "rkt's basic auth configuration needs a user and a password; this Basic credential is not one it can make"
		}
		doc["type"] = "basic"
		doc["credentials"] = map[string]string{"user": parts[0], "password": parts[1]}
	case strings.HasPrefix(value, "Bearer ") && len(value) > len("Bearer "):
		doc["type"] = "oauth"
		doc["credentials"] = map[string]string{"token": strings.TrimPrefix(value, "Bearer ")}
	default:
		return nil, "rkt's auth configuration has basic, oauth (bearer) and aws credentials only; this Authorization value is none of the first two"
	}
	b, _ := json.Marshal(doc)
	return b, ""
}

// ---------------------------------------------------------------- errors

// errText is an rkt error with every wrapped cause (errwrap's Error() shows only the outer).
func errText(err error) string {
	parts := []string{}
	errwrap.Walk(err, func(e error) {
		if _, ok := e.(errwrap.Wrapper); ok {
			return
		}
		t := e.Error()
		if len(parts) == 0 || parts[len(parts)-1] != t {
			parts = append(parts, t)
		}
	})
	if len(parts) == 0 {
		return err.Error()
	}
	return strings.Join(parts, ": ")
}

// classify maps an rkt fetch error to an error kind of the protocol.
func classify(err error) string {
	var chain []error
	errwrap.Walk(err, func(e error) { chain = append(chain, e) })
	text := strings.ToLower(errText(err))
	for _, e := range chain {
		if e == pgperrors.ErrUnknownIssuer {
			return "key-not-trusted"
		}
		// Rendering the image (rkt fetch as root, rkt run) looks each dependency up by the
		// imageID its manifest gives: no image in the store has it.
		if e == imagestore.ErrKeyNotFound && strings.Contains(text, "rendering tree store") {
			return "image-id-mismatch"
		}
	}
	has := func(subs ...string) bool {
		for _, s := range subs {
			if strings.Contains(text, s) {
				return true
			}
		}
		return false
	}
	switch {
	case has("discovery failed"):
		return "discovery-failed"
	case has("error downloading the signature file"):
		return "signature-missing"
	case has("error downloading aci"):
		return "fetch-failed"
	case has("error when reading the app name", "requested value for label", "not provided by the image manifest"):
		return "manifest-mismatch"
	}
	for _, e := range chain {
		switch e.(type) {
		case pgperrors.SignatureError, pgperrors.StructuralError, pgperrors.InvalidArgumentError:
			return "signature-invalid"
		case types.ACKindError, types.ACVersionError, types.ACIdentifierError, *json.SyntaxError, *json.UnmarshalTypeError:
			return "invalid-manifest"
		}
	}
	switch {
	case has("openpgp:", "no valid signatures found", "keystore:"):
		return "signature-invalid"
	case has("missing manifest", "unknown image filetype", "error extracting tarball", "gzip:", "bzip2", "xz",
		"unexpected eof", "archive/tar", "error decompressing image", "error copying image"):
		// the last two: rkt's store could not decompress the archive (xz runs as a program)
		return "not-an-image"
	case has("manifest", "invalid character", "error at line"):
		return "invalid-manifest"
	}
	return "other"
}

// fetchError is the answer for an error of rkt's fetcher. rkt refused the image, whatever the
// reason: a signature or key in an OpenPGP feature its library does not have (an algorithm newer
// than RFC 4880, such as EdDSA) is a refusal too (the image is not run), graded like any other.
// Only a trusted key rkt cannot read is unsupported: the operator's policy cannot be set up
// (opFetch says so before fetching).
func fetchError(err error) answer {
	return errAnswer(classify(err), "rkt: %s", errText(err))
}

// ---------------------------------------------------------------- parse_app

// appFromImageString reads s as rkt fetch/run read an image argument.
func appFromImageString(s string) (*discovery.App, *answer) {
	d, err := image.DistFromImageString(s)
	if err != nil {
		kind := "invalid-app-string"
		var chain []error
		errwrap.Walk(err, func(e error) { chain = append(chain, e) })
		for _, e := range chain {
			if _, ok := e.(types.ACIdentifierError); ok {
				kind = "invalid-identifier"
			}
		}
		if strings.Contains(err.Error(), "ACIdentifier") {
			kind = "invalid-identifier"
		}
		a := errAnswer(kind, "rkt: %s", errText(err))
		return nil, &a
	}
	ad, ok := d.(*dist.Appc)
	if !ok {
		what := fmt.Sprintf("a %T", d)
		switch d.(type) {
		case *dist.ACIArchive:
			what = "a path or URL of an image archive"
		case *dist.Docker:
			what = "a docker image"
		}
		a := errAnswer("invalid-app-string", "rkt reads %q as %s, not as an appc image name", s, what)
		return nil, &a
	}
	return ad.App(), nil
}

func labelsOf(app *discovery.App) map[string]string {
	out := map[string]string{}
	for k, v := range app.Labels {
		out[k.String()] = v
	}
	return out
}

func opParseApp(args map[string]json.RawMessage) (answer, error) {
	s, err := stringArg(args, "app")
	if err != nil {
		return answer{}, err
	}
	app, bad := appFromImageString(s)
	if bad != nil {
		return *bad, nil
	}
	return okAnswer(map[string]interface{}{"name": app.Name.String(), "tag": nil, "labels": labelsOf(app)}), nil
}

// withDefaults adds rkt's default os and arch labels to an app, as its name fetcher does
// before discovery, and checks them as rkt does.
func withDefaults(app *discovery.App) (*discovery.App, error) {
	app = app.Copy()
	if _, ok := app.Labels["arch"]; !ok {
		app.Labels["arch"] = common.GetArch()
	}
	if _, ok := app.Labels["os"]; !ok {
		app.Labels["os"] = common.GetOS()
	}
	if err := types.IsValidOSArch(app.Labels, stage0.ValidOSArch); err != nil {
		return nil, err
	}
	return app, nil
}

// ---------------------------------------------------------------- discover

func discoveryInsecure(f *rktflag.SecFlags) discovery.InsecureOption {
	insecure := discovery.InsecureNone
	if f.SkipTLSCheck() {
		insecure |= discovery.InsecureTLS
	}
	if f.AllowHTTP() {
		insecure |= discovery.InsecureHTTP
	}
	return insecure
}

func (s *session) opDiscover(args map[string]json.RawMessage) (answer, error) {
	appStr, err := stringArg(args, "app")
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
		if w != "aci" && w != "pubkeys" {
			return unsupportedAnswer("rkt has no discovery of %q", w), nil
		}
	}
	dir, err := ioutil.TempDir(s.scratch, "discover-")
	if err != nil {
		return failedAnswer("scratch folder: %v", err), nil
	}
	defer os.RemoveAll(dir)
	o, why, err := transport(args, dir, true)
	if err != nil || why != "" {
		if err != nil {
			if _, ok := err.(badRequest); ok {
				return answer{}, err
			}
			return failedAnswer("%v", err), nil
		}
		return unsupportedAnswer("%s", why), nil
	}
	app, bad := appFromImageString(appStr)
	if bad != nil {
		return *bad, nil
	}
	result := map[string]interface{}{}
	attempts := []map[string]string{}
	for _, w := range what {
		switch w {
		case "aci":
			full, err := withDefaults(app)
			if err != nil {
				return errAnswer("discovery-failed", "rkt: invalid Appc distribution %q: %s", appStr, errText(err)), nil
			}
			eps, fa, err := discovery.DiscoverACIEndpoints(*full, config.ResolveAuthPerHost(o.headers), discoveryInsecure(o.flags), 0)
			for _, a := range fa {
				attempts = append(attempts, map[string]string{"prefix": a.Prefix, "error": fmt.Sprint(a.Error), "what": "aci"})
			}
			if err == nil && len(eps) == 0 {
				err = errors.New("no endpoints discovered")
			}
			if err != nil {
				return errAnswer("discovery-failed", "rkt: discovery failed for %q: %s", app.Name, errText(err)), nil
			}
			out := []map[string]string{}
			for _, e := range eps {
				out = append(out, map[string]string{"aci": e.ACI, "asc": e.ASC})
			}
			result["aci"] = out
		case "pubkeys":
			// as rkt's fetcher gathers keys for a name (maybeFetchPubKeys): the name alone.
			m := &pubkey.Manager{
				AuthPerHost:          o.headers,
				InsecureAllowHTTP:    o.flags.ConsiderInsecurePubKeys() && o.flags.AllowHTTP(),
				InsecureSkipTLSCheck: o.flags.SkipTLSCheck(),
			}
			kls, err := m.GetPubKeyLocations(app.Name.String())
			if err != nil {
				return errAnswer("discovery-failed", "rkt: error determining key location: %s", errText(err)), nil
			}
			result["pubkeys"] = kls
		}
	}
	result["attempts"] = attempts
	return okAnswer(result), nil
}

// ---------------------------------------------------------------- fetch

type trustKey struct {
	Prefix string `json:"prefix"`
	Key    string `json:"key"`
}

type trustArg struct {
	Keys                []trustKey `json:"keys"`
	VerifySignatures    *bool      `json:"verify_signatures"`
	TrustDiscoveredKeys bool       `json:"trust_discovered_keys"`
}

// parentName names the scratch image whose manifest lists a requested dependency.
const parentName = "rkt-adapter.invalid/dependent"

func (s *session) opFetch(args map[string]json.RawMessage) (answer, error) {
	var trust trustArg
	if raw, ok := args["trust"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &trust); err != nil {
			return answer{}, badf("argument \"trust\": %v", err)
		}
	}
	verify := trust.VerifySignatures == nil || *trust.VerifySignatures

	_, hasApp := args["app"]
	depRaw, hasDep := args["dependency"]
	if hasDep && string(depRaw) == "null" {
		hasDep = false
	}
	if hasApp == hasDep {
		return answer{}, badf("give exactly one of \"app\" and \"dependency\"")
	}

	dir, err := ioutil.TempDir(s.scratch, "fetch-")
	if err != nil {
		return failedAnswer("scratch folder: %v", err), nil
	}
	defer os.RemoveAll(dir)

	o, why, err := transport(args, dir, verify)
	if err != nil {
		if _, ok := err.(badRequest); ok {
			return answer{}, err
		}
		return failedAnswer("%v", err), nil
	}
	if why != "" {
		return unsupportedAnswer("%s", why), nil
	}

	// The scratch data folder and keystore (local config: trustedkeys/; no system config).
	store, err := imagestore.NewStore(filepath.Join(dir, "data", "cas"))
	if err != nil {
		return failedAnswer("rkt: cannot open store: %v", errText(err)), nil
	}
	defer store.Close()
	ts, err := treestore.NewStore(filepath.Join(dir, "data", "cas", "tree"), store)
	if err != nil {
		return failedAnswer("rkt: cannot open treestore: %v", errText(err)), nil
	}
	ks := keystore.New(keystore.NewConfig(filepath.Join(dir, "system-config"), filepath.Join(dir, "local-config")))

	for i, k := range trust.Keys {
		if a := trustKeyAs(ks, dir, i, k); a != nil {
			return *a, nil
		}
	}

	f := &image.Fetcher{
		S:                  store,
		Ts:                 ts,
		Ks:                 ks,
		Headers:            o.headers,
		DockerAuth:         map[string]config.BasicCredentials{},
		InsecureFlags:      o.flags,
		TrustKeysFromHTTPS: trust.TrustDiscoveredKeys,
		PullPolicy:         image.PullPolicyUpdate,
		WithDeps:           true,
	}

	var key string
	if hasApp {
		s, err := stringArg(args, "app")
		if err != nil {
			return answer{}, err
		}
		if _, bad := appFromImageString(s); bad != nil {
			return *bad, nil // not an appc image name for rkt: it would fetch a file or docker image
		}
		al := apps.Apps{}
		al.Create(s)
		if err := f.FetchImages(&al); err != nil {
			return fetchError(err), nil
		}
		key = al.Last().ImageID.String()
	} else {
		parentKey, a := writeParent(store, depRaw)
		if a != nil {
			return *a, nil
		}
		f.PullPolicy = image.PullPolicyNew // the parent is taken from the store, as rkt run does
		parentApp, err := discovery.NewApp(parentName, parentLabels())
		if err != nil {
			return failedAnswer("parent image name: %v", err), nil
		}
		if _, err := f.FetchImage(dist.NewAppcFromApp(parentApp), parentName, ""); err != nil {
			return fetchError(err), nil
		}
		infos, err := store.GetAllACIInfos(nil, false)
		if err != nil {
			return failedAnswer("rkt store: %v", errText(err)), nil
		}
		for _, info := range infos {
			if info.BlobKey != parentKey {
				key = info.BlobKey
			}
		}
		if key == "" {
			return failedAnswer("rkt fetched the dependent image but no dependency is in its store"), nil
		}
	}

	im, err := store.GetImageManifest(key)
	if err != nil {
		return failedAnswer("rkt store: manifest of %s: %v", key, errText(err)), nil
	}
	urls := map[string]interface{}{"image": nil, "signature": nil, "imagetags": nil}
	if remotes, err := store.GetAllRemotes(); err == nil {
		for _, r := range remotes {
			if r.BlobKey == key {
				urls["image"] = r.ACIURL
				if verify && r.SigURL != "" {
					urls["signature"] = r.SigURL // with image checks off rkt does not download it
				}
			}
		}
	}
	return okAnswer(map[string]interface{}{
		"image_id": key,
		"name":     im.Name.String(),
		"labels":   im.Labels.ToMap(),
		"urls":     urls,
	}), nil
}

// trustKeyAs adds one trusted key as `rkt trust --prefix P KEYFILE` (or --root for the empty
// prefix) adds it, the fingerprint accepted. A key rkt cannot read is unsupported.
func trustKeyAs(ks *keystore.Keystore, dir string, i int, k trustKey) *answer {
	path := filepath.Join(dir, fmt.Sprintf("trusted-%d.asc", i))
	if err := ioutil.WriteFile(path, []byte(k.Key), 0600); err != nil {
		a := failedAnswer("writing key: %v", err)
		return &a
	}
	if u, err := url.Parse(k.Prefix); err == nil && u.Scheme != "" {
		a := errAnswer("other", "rkt trust: --prefix must not contain a URL scheme (%q)", k.Prefix)
		return &a
	}
	m := &pubkey.Manager{Ks: ks}
	if err := m.AddKeys([]string{path}, k.Prefix, pubkey.AcceptForce); err != nil {
		text := strings.ReplaceAll(errText(err), path, "KEYFILE")
		if strings.Contains(text, "unsupported") || strings.Contains(text, "openpgp") {
			a := unsupportedAnswer("rkt cannot read the trusted key for prefix %q: %s", k.Prefix, text)
			return &a
		}
		a := errAnswer("other", "rkt trust --prefix %q: %s", k.Prefix, text)
		return &a
	}
	return nil
}

func parentLabels() map[types.ACIdentifier]string {
	return map[types.ACIdentifier]string{"os": common.GetOS(), "arch": common.GetArch()}
}

// writeParent puts a scratch image into the store whose manifest lists the dependency as
// given (rkt's manifest parser reads it).
func writeParent(store *imagestore.Store, dep json.RawMessage) (string, *answer) {
	labels := []map[string]string{}
	for n, v := range parentLabels() {
		labels = append(labels, map[string]string{"name": n.String(), "value": v})
	}
	sort.Slice(labels, func(i, j int) bool { return labels[i]["name"] < labels[j]["name"] })
	manifest, _ := json.Marshal(map[string]interface{}{
		"acKind":       "ImageManifest",
		"acVersion":    schema.AppContainerVersion.String(),
		"name":         parentName,
		"labels":       labels,
		"dependencies": []json.RawMessage{dep},
	})
	var im schema.ImageManifest
	if err := im.UnmarshalJSON(manifest); err != nil {
		a := errAnswer("invalid-manifest", "rkt does not accept this dependency in an image manifest: %v", err)
		return "", &a
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	now := time.Unix(0, 0)
	tw.WriteHeader(&tar.Header{Name: "manifest", Mode: 0644, Size: int64(len(manifest)), ModTime: now, Typeflag: tar.TypeReg})
	tw.Write(manifest)
	tw.WriteHeader(&tar.Header{Name: "rootfs", Mode: 0755, ModTime: now, Typeflag: tar.TypeDir})
	tw.Close()
	key, err := store.WriteACI(bytes.NewReader(buf.Bytes()), imagestore.ACIFetchInfo{Latest: true})
	if err != nil {
		a := failedAnswer("rkt store: writing the dependent image: %s", errText(err))
		return "", &a
	}
	return key, nil
}

//go:build !discport

// The tree's discovery functions take no port (appc/spec before v0.8.11, and pull request 584,
// which branches from such a tree). The hello then offers no custom-port, so the harness serves
// discovery on the default ports and sends no port; parseDiscoveryArgs declines one that comes.

package main

import (
	"net/http"

	"github.com/appc/spec/discovery"
)

const libDiscoveryPort = false

func libDiscoverACI(app discovery.App, h map[string]http.Header, ins discovery.InsecureOption, port uint) ([]discovery.ACIEndpoint, []discovery.FailedAttempt, error) {
	return discovery.DiscoverACIEndpoints(app, h, ins)
}

func libDiscoverKeys(app discovery.App, h map[string]http.Header, ins discovery.InsecureOption, port uint) ([]string, []discovery.FailedAttempt, error) {
	return discovery.DiscoverPublicKeys(app, h, ins)
}

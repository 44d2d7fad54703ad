//go:build discport

// The tree's discovery functions take a port (appc/spec v0.8.11 and later).

package main

import (
	"net/http"

	"github.com/appc/spec/discovery"
)

const libDiscoveryPort = true

func libDiscoverACI(app discovery.App, h map[string]http.Header, ins discovery.InsecureOption, port uint) ([]discovery.ACIEndpoint, []discovery.FailedAttempt, error) {
	return discovery.DiscoverACIEndpoints(app, h, ins, port)
}

func libDiscoverKeys(app discovery.App, h map[string]http.Header, ins discovery.InsecureOption, port uint) ([]string, []discovery.FailedAttempt, error) {
	return discovery.DiscoverPublicKeys(app, h, ins, port)
}

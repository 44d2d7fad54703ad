// Probe discport: the discovery functions take a port (appc/spec v0.8.11).
package probe

import "github.com/appc/spec/discovery"

func probe() {
	var port uint
	discovery.DiscoverACIEndpoints(discovery.App{}, nil, discovery.InsecureNone, port)
	discovery.DiscoverPublicKeys(discovery.App{}, nil, discovery.InsecureNone, port)
}

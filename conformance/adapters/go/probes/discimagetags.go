// Probe discimagetags: image tags discovery, returning the document's and signature's URLs.
package probe

import "github.com/appc/spec/discovery"

func probe() (string, string, error) {
	eps, _, err := discovery.DiscoverImageTags(discovery.App{}, nil, discovery.InsecureNone)
	var doc, asc string
	for _, e := range eps {
		doc, asc = e.ImageTags, e.ASC
	}
	return doc, asc, err
}

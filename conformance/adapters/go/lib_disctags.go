//go:build discimagetags

// The tree has discovery.DiscoverImageTags: discover answers the kind "imagetags" with it.

package main

import (
	"errors"

	"github.com/appc/spec/discovery"
)

func init() {
	discoverImageTags = libDiscoverImageTags
}

func libDiscoverImageTags(app *discovery.App, d *discoveryArgs) ([]imageTagsOut, []attemptOut, error) {
	eps, fa, err := discovery.DiscoverImageTags(*app, d.headers, d.insecure)
	att := attemptsOut("imagetags", fa)
	if err == nil && len(eps) == 0 { // the library's "nothing found" is an empty list
		err = errors.New("no image tags endpoint found")
	}
	if err != nil {
		return nil, att, err
	}
	out := make([]imageTagsOut, 0, len(eps))
	for _, e := range eps {
		out = append(out, imageTagsOut{URL: e.ImageTags, ASC: e.ASC})
	}
	return out, att, nil
}

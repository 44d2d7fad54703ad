//go:build apptag && imagetags && discimagetags && appmergetag

// resolve on a tree with the image tags API: before the image is discovered, the app's tag is
// merged into its labels. The steps are the library's (discovery.DiscoverImageTags,
// App.MergeTag); the library has no function that fetches the document, so the adapter fetches
// the first endpoint's URL itself with the library's own HTTP clients (docs/DECISIONS.md, "The Go
// adapter on a tree with image tags").

package main

import (
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/appc/spec/discovery"
	"github.com/appc/spec/schema"
)

// maxImageTagsDoc bounds what the adapter reads of a document (the harness's documents are small).
const maxImageTagsDoc = 4 << 20

func init() {
	resolveTag = libResolveTag
}

func libResolveTag(app *discovery.App, d *discoveryArgs) (*discovery.App, []attemptOut, *answer) {
	eps, fa, err := discovery.DiscoverImageTags(*app, d.headers, d.insecure)
	att := attemptsOut("imagetags", fa)
	if err != nil {
		a := errAnswer("discovery-failed", "%s", describeFailure("imagetags", err, att))
		return nil, att, &a
	}
	var tags *schema.ImageTags // no endpoint: no document, the library's nil *ImageTags
	if len(eps) > 0 {
		doc, ferr := fetchImageTags(eps[0].ImageTags, d)
		if ferr != nil {
			a := errAnswer("fetch-failed", "image tags document %s: %v", eps[0].ImageTags, ferr)
			return nil, att, &a
		}
		t, bad := decodeImageTags(string(doc))
		if bad != nil {
			return nil, att, bad
		}
		tags = t
	}
	merged, err := app.MergeTag(tags)
	if err != nil {
		a := tagError(err)
		return nil, att, &a
	}
	return merged, att, nil
}

// fetchImageTags GETs the document with the library's client (discovery.ClientInsecureTLS when
// certificates are not checked), sending the headers given for that host; anything but 200 is
// a failure.
func fetchImageTags(raw string, d *discoveryArgs) ([]byte, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest("GET", u.String(), nil)
	if err != nil {
		return nil, err
	}
	for k, vs := range d.headers[u.Host] {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	client := discovery.Client
	if d.insecure&discovery.InsecureTLS != 0 {
		client = discovery.ClientInsecureTLS
	}
	if client == nil {
		return nil, errors.New("the library's HTTP client is nil")
	}
	res, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, errors.New("HTTP " + res.Status)
	}
	return io.ReadAll(io.LimitReader(res.Body, maxImageTagsDoc))
}

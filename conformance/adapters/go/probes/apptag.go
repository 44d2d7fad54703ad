// Probe apptag: an app has a tag (the image tags draft: ':' in an app string is a tag).
package probe

import "github.com/appc/spec/discovery"

func probe() string {
	var app discovery.App
	return app.Tag
}

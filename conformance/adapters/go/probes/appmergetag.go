// Probe appmergetag: an app merges its tag into its labels with an image tags document.
package probe

import (
	"github.com/appc/spec/discovery"
	"github.com/appc/spec/schema"
)

func probe() (*discovery.App, error) {
	var app discovery.App
	var tags *schema.ImageTags
	return app.MergeTag(tags)
}

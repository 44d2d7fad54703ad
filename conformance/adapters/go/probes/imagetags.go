// Probe imagetags: the image tags document type, with labels resolution and merging.
package probe

import (
	"encoding/json"

	"github.com/appc/spec/schema"
	"github.com/appc/spec/schema/types"
)

func probe() error {
	var t schema.ImageTags
	if err := json.Unmarshal([]byte("{}"), &t); err != nil {
		return err
	}
	var resolved map[types.ACIdentifier]string
	resolved, err := t.Resolve("tag")
	_ = resolved
	var merged types.LabelsMap
	merged, err = (&t).MergeTag(types.LabelsMap{}, "tag")
	_ = merged
	return err
}

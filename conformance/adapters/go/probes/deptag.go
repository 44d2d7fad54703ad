// Probe deptag: a dependency in an image manifest has a tag.
package probe

import "github.com/appc/spec/schema/types"

func probe() string {
	var d types.Dependency
	return d.Tag
}

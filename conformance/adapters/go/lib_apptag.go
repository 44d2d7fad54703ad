//go:build apptag

// The tree's discovery.App has a Tag, and its app string parser puts the value after ':' there
// (the image tags draft): this build follows the appc-imagetags profile.

package main

import "github.com/appc/spec/discovery"

const colonIsTag = true

// appTag maps the library's tag to the protocol's: the library keeps "no tag" as the empty
// string, so an empty Tag is null (it cannot tell "no tag" from an empty one, and neither can
// the adapter).
func appTag(app *discovery.App) interface{} {
	if app.Tag == "" {
		return nil
	}
	return app.Tag
}

func appHasTag(app *discovery.App) bool { return app.Tag != "" }

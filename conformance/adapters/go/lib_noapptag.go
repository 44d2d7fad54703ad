//go:build !apptag

// The tree's app string parser makes the value after ':' the version label (appc-0.8.11): there
// are no tags.

package main

import "github.com/appc/spec/discovery"

const colonIsTag = false

func appTag(app *discovery.App) interface{} { return nil }

func appHasTag(app *discovery.App) bool { return false }

//go:build imagetags

// The tree has schema.ImageTags (the image tags document, with Resolve and MergeTag): this build
// answers validate_imagetags, resolve_tag and merge_tag with it.

package main

import (
	"encoding/json"
	"strings"

	"github.com/appc/spec/schema"
	"github.com/appc/spec/schema/types"
)

func init() {
	registerOp("validate_imagetags", opValidateImageTags)
	registerOp("resolve_tag", opResolveTag)
	registerOp("merge_tag", opMergeTag)
}

// decodeImageTags is the library's JSON decoding of a document (ImageTags.UnmarshalJSON).
func decodeImageTags(doc string) (*schema.ImageTags, *answer) {
	var t schema.ImageTags
	if err := json.Unmarshal([]byte(doc), &t); err != nil {
		a := errAnswer("invalid-imagetags", "%s", strings.TrimSpace(err.Error()))
		return nil, &a
	}
	return &t, nil
}

// tagError maps an error of ImageTags.Resolve or MergeTag to a kind. The library returns plain
// errors (fmt.Errorf), so the kind is read from the message: its alias loop error and its
// version label error are the protocol's alias-cycle and version-conflict; any other is "other".
func tagError(err error) answer {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "circular"):
		return errAnswer("alias-cycle", "%s", msg)
	case strings.Contains(msg, "version label is already defined"):
		return errAnswer("version-conflict", "%s", msg)
	}
	return errAnswer("other", "%s", msg)
}

func opValidateImageTags(args map[string]json.RawMessage) (answer, error) {
	doc, err := stringArg(args, "document")
	if err != nil {
		return answer{}, err
	}
	if _, bad := decodeImageTags(doc); bad != nil {
		return *bad, nil
	}
	return okAnswer(map[string]bool{"valid": true}), nil
}

func labelsOut(m map[types.ACIdentifier]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

func opResolveTag(args map[string]json.RawMessage) (answer, error) {
	doc, err := stringArg(args, "imagetags")
	if err != nil {
		return answer{}, err
	}
	tag, err := stringArg(args, "tag")
	if err != nil {
		return answer{}, err
	}
	t, bad := decodeImageTags(doc)
	if bad != nil {
		return *bad, nil
	}
	labels, err := t.Resolve(tag)
	if err != nil {
		return tagError(err), nil
	}
	// Resolve documents a nil result as "the resolved tag has no labels entry": the protocol's
	// tag-not-found. An entry with no labels ({}) is a non-nil empty map, and answered as such.
	if labels == nil {
		return errAnswer("tag-not-found", "Resolve(%q) returned no labels (nil) and no error", tag), nil
	}
	return okAnswer(map[string]interface{}{"labels": labelsOut(labels)}), nil
}

func opMergeTag(args map[string]json.RawMessage) (answer, error) {
	var t *schema.ImageTags // null: no document, the library's nil *ImageTags
	if raw, ok := args["imagetags"]; ok && string(raw) != "null" {
		doc, err := stringArg(args, "imagetags")
		if err != nil {
			return answer{}, err
		}
		var bad *answer
		if t, bad = decodeImageTags(doc); bad != nil {
			return *bad, nil
		}
	}
	labels := types.LabelsMap{}
	if raw, ok := args["labels"]; ok && string(raw) != "null" {
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return answer{}, badf("argument \"labels\" must be an object of strings")
		}
		for k, v := range m {
			labels[types.ACIdentifier(k)] = v
		}
	}
	// null and "" are both the library's "no tag" (it has no other).
	tag := ""
	if raw, ok := args["tag"]; ok && string(raw) != "null" {
		var err error
		if tag, err = stringArg(args, "tag"); err != nil {
			return answer{}, err
		}
	}
	merged, err := t.MergeTag(labels, tag)
	if err != nil {
		return tagError(err), nil
	}
	return okAnswer(map[string]interface{}{"labels": labelsOut(merged)}), nil
}

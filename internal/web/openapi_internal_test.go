package web

import (
	"encoding/json"
	"reflect"
	"sort"
	"testing"
)

// TestOpenAPISchemasComeFromTypes checks the document's schemas against
// the Go types: every schema a route names is generated from a type (or is
// a documented form or a pass-through), every type is used, and every key
// that encoding/json writes for a type is a property of its schema.
func TestOpenAPISchemasComeFromTypes(t *testing.T) {
	s := &Server{}
	used := map[string]bool{}
	for _, area := range areas {
		for _, rt := range area(s) {
			for _, name := range []string{rt.body, rt.resp} {
				switch name {
				case "", "object", "binary":
					continue
				}
				used[name] = true
				_, typed := apiTypes[name]
				_, form := formTypes[name]
				_, generic := genericSchemas[name]
				if !typed && !form && !generic {
					t.Errorf("%s %s names schema %q, which no Go type defines", rt.method, rt.path, name)
				}
			}
		}
	}
	used["Error"] = true // every operation's default response
	for name := range apiTypes {
		if !used[name] {
			t.Errorf("schema %q is defined but no route uses it", name)
		}
	}
	schemas := buildSchemas()
	for name, v := range apiTypes {
		typ := reflect.TypeOf(v)
		sample := reflect.New(typ).Elem()
		if typ.Kind() == reflect.Slice {
			// one element, so that the element's keys are checked too
			sample = reflect.MakeSlice(typ, 1, 1)
		}
		b, err := json.Marshal(sample.Interface())
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		var decoded any
		_ = json.Unmarshal(b, &decoded)
		sc := schemas[name].(map[string]any)
		if arr, ok := decoded.([]any); ok {
			items := sc["items"].(map[string]any)
			if ref, ok := items["$ref"].(string); ok {
				items = schemas[ref[len("#/components/schemas/"):]].(map[string]any)
			}
			sc, decoded = items, arr[0]
		}
		obj, ok := decoded.(map[string]any)
		if !ok {
			continue
		}
		props, _ := sc["properties"].(map[string]any)
		var missing []string
		for k := range obj {
			if _, ok := props[k]; !ok {
				missing = append(missing, k)
			}
		}
		sort.Strings(missing)
		if len(missing) > 0 {
			t.Errorf("schema %s lacks %v, which its type encodes", name, missing)
		}
	}
	// A property the type does not have would show here: Case carries the
	// case's fields and the actions its reader may take.
	caseProps := schemas["Case"].(map[string]any)["properties"].(map[string]any)
	for _, k := range []string{"no", "state", "allowed_actions", "deadline"} {
		if _, ok := caseProps[k]; !ok {
			t.Errorf("Case schema lacks %q", k)
		}
	}
}

// Package schematest compiles the credentials file's JSON Schema
// (persist/credentials.schema.json) for tests, so that persist's own tests
// and the end-to-end tests of the binary check files against the one
// published contract. Only tests import it.
package schematest

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Path is credentials.schema.json's path, found beside this package.
func Path() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "credentials.schema.json")
}

// Compile reads and compiles the schema, failing t when it cannot.
func Compile(t testing.TB) *jsonschema.Schema {
	t.Helper()
	b, err := os.ReadFile(Path())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("credentials.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("credentials.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// Validate checks a file's bytes against s: nil when they match.
func Validate(s *jsonschema.Schema, data []byte) error {
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

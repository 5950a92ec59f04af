package assess

import (
	"bytes"
	_ "embed" // the sample tree
)

//go:embed testdata/sample-tree.yaml
var sampleTree []byte

// SampleTree returns the YAML of testdata/sample-tree.yaml: the
// illustrative tree of edition sample-2026 (37 standards, 100 points,
// NOT the official text) that the demo city loads. Each call returns a
// new copy.
func SampleTree() []byte { return bytes.Clone(sampleTree) }

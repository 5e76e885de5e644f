package msgtemplate

import (
	"testing"

	"github.com/flowproc/flowproc/flowengine/apigee/flowvar"
)

func TestFnHash(t *testing.T) {
	v := flowvar.Map{"a": "abc"}
	runFnCases(t, []fnCase{
		{tmpl: "{md5Hex(a)}", vars: v, want: "900150983cd24fb0d6963f7d28e17f72"},
		{tmpl: "{md5Base64(a)}", vars: v, want: "kAFQmDzST7DWlj99KOF/cg=="},
		{tmpl: "{sha1Hex(a)}", vars: v, want: "a9993e364706816aba3e25717850c26c9cd0d89d"},
		{tmpl: "{sha1Base64(a)}", vars: v, want: "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="},
		{tmpl: "{sha256Hex(a)}", vars: v, want: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
		{tmpl: "{sha256Base64(a)}", vars: v, want: "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="},
		{tmpl: "{sha384Hex(a)}", vars: v, want: "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7"},
		{tmpl: "{sha384Base64('')}", want: "OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"},
		{tmpl: "{sha512Hex(a)}", vars: v, want: "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
		{tmpl: "{sha512Base64('')}", want: "z4PhNX7vuL3xVChQ1m2AB9Yg5AULVxXcg/SpIdNs6c5H0NE8XYXysP+DGNKHfuwvY7kxvUdBeoGlODJ6+SfaPg=="},
		{tmpl: "{sha256Hex(missing)}", want: "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
		{tmpl: "{sha256Hex()}", err: CodeArity},
	})
}

package reqdecode

import (
	corev3 "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/anypb"

	"github.com/flowproc/flowproc/internal/wirescan"
)

// metadata decodes a config.core.v3.Metadata (ProcessingRequest's
// metadata_context): filter_metadata's Structs and typed_filter_metadata's
// Anys.
func (d *decoder) metadata(b []byte) (*corev3.Metadata, bool) {
	md := new(corev3.Metadata)
	for len(b) > 0 {
		num, typ, ok := wirescan.Tag(&b)
		if !ok {
			return nil, false
		}
		entry, ok := wirescan.Bytes(&b, typ)
		if !ok {
			return nil, false
		}
		switch num {
		case 1:
			if !d.structMapEntry(entry, &md.FilterMetadata, 1) {
				return nil, false
			}
		case 2:
			if !d.anyMapEntry(entry, &md.TypedFilterMetadata) {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return md, true
}

// anyMapEntry decodes one entry of a map<string, Any> into *mp.
func (d *decoder) anyMapEntry(b []byte, mp *map[string]*anypb.Any) bool {
	key, v, ok := d.stringKeyEntry(b)
	if !ok {
		return false
	}
	a := new(anypb.Any)
	for len(v) > 0 {
		num, typ, ok := wirescan.Tag(&v)
		if !ok {
			return false
		}
		raw, ok := wirescan.Bytes(&v, typ)
		if !ok {
			return false
		}
		switch num {
		case 1:
			if a.TypeUrl, ok = d.metaText.str(raw); !ok {
				return false
			}
		case 2:
			a.Value = copyBytes(raw)
		default:
			return false
		}
	}
	if *mp == nil {
		*mp = make(map[string]*anypb.Any, 1)
	}
	(*mp)[key] = a
	return true
}

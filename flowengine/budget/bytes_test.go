package budget_test

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/flowproc/flowproc/flowengine/budget"
	"github.com/flowproc/flowproc/flowengine/oxn"
)

func TestBytesReserve(t *testing.T) {
	for _, tc := range []struct {
		name    string
		limit   int64
		reserve []int64
		want    []bool
		inUse   int64
	}{
		{"within", 100, []int64{40, 60}, []bool{true, true}, 100},
		{"over refuses and takes nothing", 100, []int64{40, 61, 60}, []bool{true, false, true}, 100},
		{"larger than the budget", 100, []int64{101}, []bool{false}, 0},
		{"unlimited", 0, []int64{1 << 40, 1 << 40}, []bool{true, true}, 2 << 40},
		{"zero and negative sizes", 10, []int64{0, -5, 10}, []bool{true, true, true}, 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := budget.NewBytes(tc.limit)
			for i, n := range tc.reserve {
				if _, ok := b.Reserve(n); ok != tc.want[i] {
					t.Fatalf("Reserve(%d) #%d = %v, want %v", n, i, ok, tc.want[i])
				}
			}
			if got := b.InUse(); got != tc.inUse {
				t.Errorf("InUse = %d, want %d", got, tc.inUse)
			}
		})
	}
}

func TestReservationRelease(t *testing.T) {
	b := budget.NewBytes(100)
	r, ok := b.Reserve(70)
	if !ok || r.Size() != 70 {
		t.Fatalf("Reserve(70) = %v, %v", r.Size(), ok)
	}
	if _, ok := b.Reserve(40); ok {
		t.Fatal("Reserve(40) over the limit succeeded")
	}
	r.Release()
	r.Release() // a second release gives nothing back twice
	if b.InUse() != 0 || r.Size() != 0 {
		t.Fatalf("after Release: InUse %d, Size %d", b.InUse(), r.Size())
	}
	r2, _ := b.Reserve(60)
	r2.Shrink(100) // never grows
	r2.Shrink(25)
	if b.InUse() != 25 || r2.Size() != 25 {
		t.Fatalf("after Shrink(25): InUse %d, Size %d", b.InUse(), r2.Size())
	}
	r2.Release()
	if b.InUse() != 0 {
		t.Fatalf("after releasing a shrunk reservation: InUse %d", b.InUse())
	}
	if b.Peak() != 70 {
		t.Errorf("Peak = %d, want 70", b.Peak())
	}
	var zero budget.Reservation
	zero.Release()
	var nilBudget *budget.Bytes
	if _, ok := nilBudget.Reserve(1 << 50); !ok || nilBudget.Limit() != 0 || nilBudget.InUse() != 0 || nilBudget.Peak() != 0 {
		t.Error("a nil budget is not unlimited")
	}
}

// TestBytesConcurrent: many goroutines reserving and releasing never see the
// budget exceeded, and everything comes back.
func TestBytesConcurrent(t *testing.T) {
	const limit = 1000
	b := budget.NewBytes(limit)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				r, ok := b.Reserve(int64(50 + (g*7+i)%200))
				if u := b.InUse(); u > limit {
					t.Errorf("in use %d > limit %d", u, limit)
					return
				}
				if ok {
					r.Release()
				}
			}
		}()
	}
	wg.Wait()
	if b.InUse() != 0 {
		t.Fatalf("InUse = %d after all releases", b.InUse())
	}
	if p := b.Peak(); p > limit || p == 0 {
		t.Fatalf("Peak = %d", p)
	}
}

// jsonSample is a JSON document of about size bytes made of small objects,
// the shape that costs the parser most per byte.
func jsonSample(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"items":[`)
	for i := 0; b.Len() < size-40; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"name":"item-%04d","price":%d}`, i, i%10+1)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// TestBodyCostFactorCoversJSON measures what flowengine/oxn allocates to
// parse JSON and checks that BodyCostFactor (which adds 2 for the raw
// copies) covers it. When the parser gets cheaper the log says how far the
// constant may come down.
func TestBodyCostFactorCoversJSON(t *testing.T) {
	for _, size := range []int{4 << 10, 256 << 10, 1 << 20} {
		sample := jsonSample(size)
		alloc, retained, err := budget.MeasureParseCost(sample, func(b []byte) (any, error) { return oxn.Parse(b, 0) })
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d B JSON: parse allocates %.1f×, retains %.1f× its size; BodyCostFactor %d", len(sample), alloc, retained, budget.BodyCostFactor)
		if need := alloc + 2; need > budget.BodyCostFactor {
			t.Errorf("%d B JSON costs %.1f× (parse %.1f× + 2 raw copies) > BodyCostFactor %d: raise the constant", len(sample), need, alloc, budget.BodyCostFactor)
		}
	}
	// A FLAT JSON request body is held as an oxn.Tree and materialised
	// only when a flow reads it through the XPath engine; that fallback
	// (Tree and *dom.Node document alive together) is what admission must
	// still cover, so the factor cannot drop to the Tree's own cost.
	for _, size := range []int{4 << 10, 256 << 10, 1 << 20} {
		sample := jsonSample(size)
		alloc, _, err := budget.MeasureParseCost(sample, func(b []byte) (any, error) {
			t, err := oxn.ParseTree(b, 0)
			if err != nil {
				return nil, err
			}
			d := oxn.NewDoc(t)
			d.Document()
			return d, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%d B JSON as a Tree, then materialised: allocates %.1f× its size", len(sample), alloc)
		if need := alloc + 2; need > budget.BodyCostFactor {
			t.Errorf("%d B JSON as a materialised Tree costs %.1f× > BodyCostFactor %d: raise the constant", len(sample), need, budget.BodyCostFactor)
		}
	}
	if _, _, err := budget.MeasureParseCost(nil, nil); err == nil {
		t.Error("an empty sample measured without error")
	}
	if _, _, err := budget.MeasureParseCost([]byte("{"), func(b []byte) (any, error) { return oxn.Parse(b, 0) }); err == nil {
		t.Error("a parse error was not reported")
	}
}

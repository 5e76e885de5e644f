package upstream

import (
	"context"
	"errors"
	"net/http"
	"testing"
)

func TestMock(t *testing.T) {
	m := NewMock()
	m.AnswerStatus("a", 201, http.Header{"X": {"1"}}, []byte("body"))
	m.Answer("fail", &Result{Err: &Error{Kind: KindTimeout, Message: "slow"}})
	m.Func = func(_ context.Context, c *Call) (*Result, error) {
		switch c.ID {
		case "func":
			return &Result{Status: 202}, nil
		case "nil":
			return nil, nil
		}
		return nil, errors.New("func refused")
	}
	tests := []struct {
		id         string
		wantStatus int
		wantKind   Kind
		wantErr    bool
	}{
		{"a", 201, "", false},
		{"fail", 0, KindTimeout, false},
		{"func", 202, "", false},
		{"nil", 0, KindUnmocked, false},
		{"other", 0, "", true},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			r, err := m.Do(t.Context(), &Call{ID: tt.id, URL: "http://x.test/" + tt.id})
			if tt.wantErr {
				if err == nil {
					t.Fatal("want the Func's error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantKind != "" {
				wantKind(t, r, tt.wantKind)
			} else {
				wantOK(t, r, tt.wantStatus)
			}
			if r.ID != tt.id || r.URL != "http://x.test/"+tt.id {
				t.Errorf("ID %q URL %q", r.ID, r.URL)
			}
		})
	}

	// Answers are copies: a caller changing one does not change the next.
	r1, _ := m.Do(t.Context(), &Call{ID: "a"})
	r1.Body[0] = 'X'
	r1.Header.Set("X", "changed")
	r2, _ := m.Do(t.Context(), &Call{ID: "a"})
	if string(r2.Body) != "body" || r2.Header.Get("X") != "1" {
		t.Errorf("stored answer was modified: %q %v", r2.Body, r2.Header)
	}

	if got := len(m.Calls()); got != len(tests)+2 {
		t.Errorf("%d calls recorded", got)
	}
	if _, err := m.Do(t.Context(), nil); err != ErrNilCall {
		t.Errorf("nil call: %v", err)
	}
}

func TestMockUnmockedAndCancelled(t *testing.T) {
	var m Mock // the zero value works
	wantKind(t, do(t, &m, &Call{ID: "x"}), KindUnmocked)
	m.Answer("x", &Result{Status: 200})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r, err := m.Do(ctx, &Call{ID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	wantKind(t, r, KindCanceled)
}

func TestMockInDoAll(t *testing.T) {
	m := NewMock()
	m.AnswerStatus("one", 200, nil, nil)
	rs := DoAll(t.Context(), m, []*Call{{ID: "one"}, {ID: "two"}}, 2)
	wantOK(t, rs[0], 200)
	wantKind(t, rs[1], KindUnmocked)
}

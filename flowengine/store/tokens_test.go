package store

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestTokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, clk *fakeClock, _ Counter, _ RateLimiter, _ KV, tok Tokens) {
		ctx := context.Background()
		now := clk.now()
		at := Token{Kind: AccessToken, Value: "at-1", ClientID: "key-1", AppName: "app", DeveloperEmail: "d@x",
			APIProducts: []string{"p1"}, Scope: "read", Attributes: map[string]string{"a": "b"},
			IssuedAt: now, ExpiresAt: now.Add(time.Hour), RefreshToken: "rt-1"}
		rt := Token{Kind: RefreshToken, Value: "rt-1", ClientID: "key-1", IssuedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
		other := Token{Kind: AccessToken, Value: "at-2", ClientID: "key-2", IssuedAt: now, ExpiresAt: now.Add(time.Hour)}
		for _, x := range []Token{at, rt, other} {
			if err := tok.Put(ctx, x); err != nil {
				t.Fatal(err)
			}
		}
		got, ok, err := tok.Get(ctx, AccessToken, "at-1")
		if err != nil || !ok {
			t.Fatalf("Get: %v %v", ok, err)
		}
		if !got.IssuedAt.Equal(at.IssuedAt) || !got.ExpiresAt.Equal(at.ExpiresAt) {
			t.Fatalf("times: %+v", got)
		}
		got.IssuedAt, got.ExpiresAt = at.IssuedAt, at.ExpiresAt
		if !reflect.DeepEqual(got, at) {
			t.Fatalf("Get = %+v\nwant %+v", got, at)
		}
		if _, ok, _ := tok.Get(ctx, RefreshToken, "at-1"); ok {
			t.Fatal("an access token answered as a refresh token")
		}
		if err := tok.Revoke(ctx, RefreshToken, "rt-1"); err != nil {
			t.Fatal(err)
		}
		if _, ok, _ := tok.Get(ctx, RefreshToken, "rt-1"); ok {
			t.Fatal("revoked refresh token still found")
		}
		if err := tok.Revoke(ctx, AccessToken, "unknown"); err != nil {
			t.Fatalf("revoke unknown: %v", err)
		}
		n, err := tok.RevokeApp(ctx, "key-1")
		if err != nil || n != 1 {
			t.Fatalf("RevokeApp = %d, %v; want 1", n, err)
		}
		if _, ok, _ := tok.Get(ctx, AccessToken, "at-1"); ok {
			t.Fatal("token of a revoked app still found")
		}
		if _, ok, _ := tok.Get(ctx, AccessToken, "at-2"); !ok {
			t.Fatal("another app's token was revoked")
		}
		clk.add(time.Hour)
		if _, ok, _ := tok.Get(ctx, AccessToken, "at-2"); ok {
			t.Fatal("expired token still found")
		}
	})
}

func TestTokensInvalid(t *testing.T) {
	eachBackend(t, func(t *testing.T, clk *fakeClock, _ Counter, _ RateLimiter, _ KV, tok Tokens) {
		now := clk.now()
		for name, x := range map[string]Token{
			"no kind":   {Value: "v", ClientID: "c", ExpiresAt: now.Add(time.Hour)},
			"no value":  {Kind: AuthCode, ClientID: "c", ExpiresAt: now.Add(time.Hour)},
			"no client": {Kind: AuthCode, Value: "v", ExpiresAt: now.Add(time.Hour)},
			"expired":   {Kind: AuthCode, Value: "v", ClientID: "c", ExpiresAt: now},
		} {
			if err := tok.Put(context.Background(), x); !errors.Is(err, ErrInvalid) {
				t.Errorf("%s: %v, want ErrInvalid", name, err)
			}
		}
	})
}

func TestMemoryTokensAreCopies(t *testing.T) {
	tok := NewMemoryTokens(nil)
	ctx := context.Background()
	in := Token{Kind: AccessToken, Value: "v", ClientID: "c", APIProducts: []string{"p"}, Attributes: map[string]string{"a": "1"}, ExpiresAt: time.Now().Add(time.Hour)}
	if err := tok.Put(ctx, in); err != nil {
		t.Fatal(err)
	}
	in.APIProducts[0], in.Attributes["a"] = "X", "X"
	out, _, _ := tok.Get(ctx, AccessToken, "v")
	out.APIProducts[0], out.Attributes["a"] = "Y", "Y"
	again, _, _ := tok.Get(ctx, AccessToken, "v")
	if again.APIProducts[0] != "p" || again.Attributes["a"] != "1" {
		t.Fatalf("stored token aliased: %+v", again)
	}
}

package store

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// MemoryTokens is the in-process Tokens store.
type MemoryTokens struct {
	mu    sync.Mutex
	now   func() time.Time
	byID  map[string]Token
	byApp map[string]map[string]struct{} // client id -> token ids
	ops   int
}

// NewMemoryTokens returns an empty store; now is the clock (nil means
// time.Now).
func NewMemoryTokens(now func() time.Time) *MemoryTokens {
	if now == nil {
		now = time.Now
	}
	return &MemoryTokens{now: now, byID: map[string]Token{}, byApp: map[string]map[string]struct{}{}}
}

// Put implements Tokens.
func (m *MemoryTokens) Put(ctx context.Context, t Token) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: token put: %w", err)
	}
	now := m.now()
	if _, err := checkToken(t, now); err != nil {
		return fmt.Errorf("store: token put: %w", err)
	}
	t.APIProducts = append([]string(nil), t.APIProducts...)
	if t.Attributes != nil {
		a := make(map[string]string, len(t.Attributes))
		for k, v := range t.Attributes {
			a[k] = v
		}
		t.Attributes = a
	}
	id := tokenID(t.Kind, t.Value)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sweep(now)
	if old, ok := m.byID[id]; ok {
		m.unindex(id, old.ClientID)
	}
	m.byID[id] = t
	if m.byApp[t.ClientID] == nil {
		m.byApp[t.ClientID] = map[string]struct{}{}
	}
	m.byApp[t.ClientID][id] = struct{}{}
	return nil
}

// Get implements Tokens. The returned token's slices and map are copies.
func (m *MemoryTokens) Get(ctx context.Context, kind TokenKind, value string) (Token, bool, error) {
	if err := ctx.Err(); err != nil {
		return Token{}, false, fmt.Errorf("store: token get: %w", err)
	}
	id := tokenID(kind, value)
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.byID[id]
	if !ok {
		return Token{}, false, nil
	}
	if !m.now().Before(t.ExpiresAt) {
		m.drop(id, t.ClientID)
		return Token{}, false, nil
	}
	t.APIProducts = append([]string(nil), t.APIProducts...)
	if t.Attributes != nil {
		a := make(map[string]string, len(t.Attributes))
		for k, v := range t.Attributes {
			a[k] = v
		}
		t.Attributes = a
	}
	return t, true, nil
}

// Revoke implements Tokens.
func (m *MemoryTokens) Revoke(ctx context.Context, kind TokenKind, value string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: token revoke: %w", err)
	}
	id := tokenID(kind, value)
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.byID[id]; ok {
		m.drop(id, t.ClientID)
	}
	return nil
}

// RevokeApp implements Tokens.
func (m *MemoryTokens) RevokeApp(ctx context.Context, clientID string) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("store: token revoke app: %w", err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	n := 0
	for id := range m.byApp[clientID] {
		if t, ok := m.byID[id]; ok && now.Before(t.ExpiresAt) {
			n++
		}
		delete(m.byID, id)
	}
	delete(m.byApp, clientID)
	return n, nil
}

func (m *MemoryTokens) drop(id, clientID string) {
	delete(m.byID, id)
	m.unindex(id, clientID)
}

func (m *MemoryTokens) unindex(id, clientID string) {
	if s := m.byApp[clientID]; s != nil {
		delete(s, id)
		if len(s) == 0 {
			delete(m.byApp, clientID)
		}
	}
}

// sweep drops expired tokens, amortised over the Puts.
func (m *MemoryTokens) sweep(now time.Time) {
	m.ops++
	if m.ops < len(m.byID) || m.ops < 64 {
		return
	}
	m.ops = 0
	for id, t := range m.byID {
		if !now.Before(t.ExpiresAt) {
			m.drop(id, t.ClientID)
		}
	}
}

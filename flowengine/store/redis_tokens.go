package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/redis/go-redis/v9"
)

// tokenPutScript stores a token and indexes it under its app.
// KEYS[1] token key, KEYS[2] app set; ARGV json, ttl ms, token id.
var tokenPutScript = redis.NewScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('SADD', KEYS[2], ARGV[3])
if redis.call('PTTL', KEYS[2]) < tonumber(ARGV[2]) then
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
return 1
`)

// tokenRevokeScript deletes one token and its app index entry.
// KEYS[1] token key; ARGV prefix, token id.
var tokenRevokeScript = redis.NewScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
redis.call('DEL', KEYS[1])
local ok, t = pcall(cjson.decode, v)
if ok and type(t) == 'table' and type(t.client_id) == 'string' then
  redis.call('SREM', ARGV[1] .. 'tapp:' .. t.client_id, ARGV[2])
end
return 1
`)

// tokenRevokeAppScript deletes every token indexed under an app.
// KEYS[1] app set; ARGV prefix. Reply: tokens deleted.
var tokenRevokeAppScript = redis.NewScript(`
local ids = redis.call('SMEMBERS', KEYS[1])
local n = 0
for _, id in ipairs(ids) do
  n = n + redis.call('DEL', ARGV[1] .. 'tok:' .. id)
end
redis.call('DEL', KEYS[1])
return n
`)

// RedisTokens is the Tokens store shared by replicas through Redis. Token
// values never reach Redis: keys hold their SHA-256.
type RedisTokens struct{ r *Redis }

// Tokens returns the Tokens store backed by r.
func (r *Redis) Tokens() *RedisTokens { return &RedisTokens{r: r} }

// Put implements Tokens.
func (s *RedisTokens) Put(ctx context.Context, t Token) error {
	ttl, err := checkToken(t, s.r.now())
	if err != nil {
		return fmt.Errorf("store: token put: %w", err)
	}
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("store: token put: %w", err)
	}
	id := tokenID(t.Kind, t.Value)
	ctx, cancel := s.r.opCtx(ctx)
	defer cancel()
	ms := ttl.Milliseconds()
	if ms < 1 {
		ms = 1
	}
	err = tokenPutScript.Run(ctx, s.r.client, []string{s.r.prefix + "tok:" + id, s.r.prefix + "tapp:" + t.ClientID},
		body, ms, id).Err()
	if err != nil {
		return s.r.fail("token put", err)
	}
	return nil
}

// Get implements Tokens.
func (s *RedisTokens) Get(ctx context.Context, kind TokenKind, value string) (Token, bool, error) {
	ctx, cancel := s.r.opCtx(ctx)
	defer cancel()
	v, err := s.r.client.Get(ctx, s.r.prefix+"tok:"+tokenID(kind, value)).Bytes()
	if errors.Is(err, redis.Nil) {
		return Token{}, false, nil
	}
	if err != nil {
		return Token{}, false, s.r.fail("token get", err)
	}
	var t Token
	if err := json.Unmarshal(v, &t); err != nil {
		return Token{}, false, fmt.Errorf("store: token get: stored token: %w", err)
	}
	if t.Kind != kind || !s.r.now().Before(t.ExpiresAt) {
		return Token{}, false, nil
	}
	t.Value = value
	return t, true, nil
}

// Revoke implements Tokens.
func (s *RedisTokens) Revoke(ctx context.Context, kind TokenKind, value string) error {
	ctx, cancel := s.r.opCtx(ctx)
	defer cancel()
	id := tokenID(kind, value)
	if err := tokenRevokeScript.Run(ctx, s.r.client, []string{s.r.prefix + "tok:" + id}, s.r.prefix, id).Err(); err != nil {
		return s.r.fail("token revoke", err)
	}
	return nil
}

// RevokeApp implements Tokens.
func (s *RedisTokens) RevokeApp(ctx context.Context, clientID string) (int, error) {
	ctx, cancel := s.r.opCtx(ctx)
	defer cancel()
	n, err := tokenRevokeAppScript.Run(ctx, s.r.client, []string{s.r.prefix + "tapp:" + clientID}, s.r.prefix).Int()
	if err != nil {
		return 0, s.r.fail("token revoke app", err)
	}
	return n, nil
}

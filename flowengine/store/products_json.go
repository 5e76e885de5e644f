package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The types below mirror the Apigee management API payloads as the
// apigee-config-maven-plugin stores them (org/developers.json,
// org/developerApps.json, org/importKeys.json, org/apiProducts.json,
// */kvms.json). Unknown fields are ignored: the payloads carry many fields
// that do not matter to request processing.

// flexString accepts a JSON string, number or boolean ("10000" and 10000
// both appear in real files).
type flexString string

func (f *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*f = flexString(s)
		return nil
	}
	if bytes.Equal(b, []byte("null")) {
		*f = ""
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err == nil {
		*f = flexString(n.String())
		return nil
	}
	var v bool
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Errorf("want a string, number or boolean, got %s", b)
	}
	*f = flexString(strconv.FormatBool(v))
	return nil
}

type jsonAttr struct {
	Name  string     `json:"name"`
	Value flexString `json:"value"`
}

func attrMap(list []jsonAttr) map[string]string {
	m := make(map[string]string, len(list))
	for _, a := range list {
		m[a.Name] = string(a.Value)
	}
	return m
}

type jsonDeveloper struct {
	Email       string     `json:"email"`
	DeveloperID string     `json:"developerId"`
	FirstName   string     `json:"firstName"`
	LastName    string     `json:"lastName"`
	UserName    string     `json:"userName"`
	Status      string     `json:"status"`
	Attributes  []jsonAttr `json:"attributes"`
}

// jsonGrant is a product grant: a bare name (create payloads) or
// {"apiproduct": name, "status": …} (credential payloads).
type jsonGrant struct {
	Name   string
	Status string
}

func (g *jsonGrant) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		g.Name = s
		return nil
	}
	var o struct {
		APIProduct string `json:"apiproduct"`
		Name       string `json:"name"`
		Status     string `json:"status"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return fmt.Errorf("API product grant: want a name or {\"apiproduct\", \"status\"}: %w", err)
	}
	g.Name, g.Status = o.APIProduct, o.Status
	if g.Name == "" {
		g.Name = o.Name
	}
	return nil
}

type jsonCredential struct {
	ConsumerKey    string      `json:"consumerKey"`
	ConsumerSecret string      `json:"consumerSecret"`
	Status         string      `json:"status"`
	IssuedAt       flexString  `json:"issuedAt"`
	ExpiresAt      flexString  `json:"expiresAt"`
	Scopes         []string    `json:"scopes"`
	APIProducts    []jsonGrant `json:"apiProducts"`
}

type jsonApp struct {
	Name        string           `json:"name"`
	AppID       string           `json:"appId"`
	DisplayName string           `json:"displayName"`
	Status      string           `json:"status"`
	CallbackURL string           `json:"callbackUrl"`
	Scopes      []string         `json:"scopes"`
	Attributes  []jsonAttr       `json:"attributes"`
	APIProducts []jsonGrant      `json:"apiProducts"`
	Credentials []jsonCredential `json:"credentials"`
}

// jsonImportKey is one entry of importKeys.json: a fixed key/secret for a
// named app.
type jsonImportKey struct {
	Name string `json:"name"`
	jsonCredential
}

type jsonQuota struct {
	Limit    flexString `json:"limit"`
	Interval flexString `json:"interval"`
	TimeUnit string     `json:"timeUnit"`
}

type jsonProduct struct {
	Name           string     `json:"name"`
	DisplayName    string     `json:"displayName"`
	Description    string     `json:"description"`
	ApprovalType   string     `json:"approvalType"`
	Attributes     []jsonAttr `json:"attributes"`
	Environments   []string   `json:"environments"`
	Proxies        []string   `json:"proxies"`
	APIResources   []string   `json:"apiResources"`
	Scopes         []string   `json:"scopes"`
	Quota          flexString `json:"quota"`
	QuotaInterval  flexString `json:"quotaInterval"`
	QuotaTimeUnit  string     `json:"quotaTimeUnit"`
	OperationGroup *struct {
		OperationConfigs []struct {
			APISource  string `json:"apiSource"`
			Operations []struct {
				Resource string   `json:"resource"`
				Methods  []string `json:"methods"`
			} `json:"operations"`
			Quota      *jsonQuota `json:"quota"`
			Attributes []jsonAttr `json:"attributes"`
		} `json:"operationConfigs"`
	} `json:"operationGroup"`
}

type jsonKVM struct {
	Name      string     `json:"name"`
	Encrypted flexString `json:"encrypted"`
	Entry     []jsonAttr `json:"entry"`
}

// parseQuota reads a quota triple; an empty limit means no quota.
func parseQuota(limit, interval flexString, unit string) (*Quota, error) {
	if strings.TrimSpace(string(limit)) == "" {
		return nil, nil
	}
	l, err := strconv.ParseInt(strings.TrimSpace(string(limit)), 10, 64)
	if err != nil || l < 0 {
		return nil, fmt.Errorf("quota limit %q: want a non-negative integer", limit)
	}
	q := &Quota{Limit: l, Interval: 1, TimeUnit: Month}
	if s := strings.TrimSpace(string(interval)); s != "" {
		if q.Interval, err = strconv.ParseInt(s, 10, 64); err != nil || q.Interval < 1 {
			return nil, fmt.Errorf("quota interval %q: want a positive integer", interval)
		}
	}
	if strings.TrimSpace(unit) != "" {
		if q.TimeUnit, err = ParseTimeUnit(unit); err != nil {
			return nil, err
		}
	}
	return q, nil
}

// parseMillis reads an Apigee epoch-milliseconds time; "", "-1" and 0 mean
// none.
func parseMillis(s flexString) (time.Time, error) {
	t := strings.TrimSpace(string(s))
	if t == "" || t == "-1" || t == "0" {
		return time.Time{}, nil
	}
	ms, err := strconv.ParseInt(t, 10, 64)
	if err != nil {
		if ts, err2 := time.Parse(time.RFC3339, t); err2 == nil {
			return ts, nil
		}
		return time.Time{}, fmt.Errorf("time %q: want epoch milliseconds or RFC 3339", t)
	}
	return time.UnixMilli(ms).UTC(), nil
}

// decodeError adds line:column to a JSON decoding error.
func decodeError(name string, data []byte, err error) error {
	var off int64 = -1
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case asErr(err, &se):
		off = se.Offset
	case asErr(err, &te):
		off = te.Offset
	}
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("%s: %w", name, err)
	}
	line := 1 + bytes.Count(data[:off], []byte("\n"))
	col := int(off) - bytes.LastIndexByte(data[:off], '\n')
	return fmt.Errorf("%s:%d:%d: %w", name, line, col, err)
}

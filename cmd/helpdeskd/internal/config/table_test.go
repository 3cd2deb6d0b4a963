package config

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestSettings_EveryFieldHasTheTypeItsKindParses(t *testing.T) {
	want := map[Kind]string{
		KindString: "*string", KindEnum: "*string", KindAddress: "*string", KindAddressList: "*[]string",
		KindHostPort: "*string", KindLoopback: "*string", KindInt: "*int", KindBytes: "*int64", KindBool: "*bool",
		KindDuration: "*time.Duration", KindDurationOrZero: "*time.Duration", KindDurationList: "*[]time.Duration",
		KindSecretList: "*[]string", KindTime: "*time.Time",
	}
	envs, keys := map[string]bool{}, map[string]bool{}
	for _, s := range Settings() {
		if got := fmt.Sprintf("%T", s.Field.ptr(&Config{}, &Mailbox{})); got != want[s.Kind] {
			t.Errorf("%s: field is %s, kind %d parses into %s", s.Env, got, s.Kind, want[s.Kind])
		}
		if s.Kind == KindInt && s.Min > s.Max {
			t.Errorf("%s: bounds %d..%d", s.Env, s.Min, s.Max)
		}
		if s.Kind == KindEnum && len(s.Allowed) == 0 {
			t.Errorf("%s: an enum without allowed values", s.Env)
		}
		if s.Secret && s.File.cfg == nil && s.File.mb == nil {
			t.Errorf("%s: a secret without a field for its _FILE path", s.Env)
		}
		key := fmt.Sprint(s.IsMailbox(), s.Key)
		if envs[s.Env] || keys[key] || !strings.HasPrefix(s.Env, "HELPDESK_") {
			t.Errorf("%s (key %s): duplicate or misnamed", s.Env, s.Key)
		}
		envs[s.Env], keys[key] = true, true
	}
}

func TestLoad_ValuesRoundTripThroughTheirDisplay(t *testing.T) {
	c, err := Load(env(map[string]string{"HELPDESK_IMAP_ADDR": "127.0.0.1:993", "HELPDESK_TOKEN_SECRET_OLD_UNTIL": "2026-12-31T00:00:00Z",
		"HELPDESK_SUPPORT_ALIASES": "a@example.com,b@example.com"}), "")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range Settings() {
		if s.fileOf != nil {
			continue
		}
		v := s.get(c, &c.Mailboxes[0])
		if v == "" {
			continue
		}
		again := *c
		mb := c.Mailboxes[0]
		if err := s.set(&again, &mb, v); err != nil {
			t.Errorf("%s: its own value %q is refused: %v", s.Env, v, err)
		} else if got := s.get(&again, &mb); got != v {
			t.Errorf("%s: %q reads back as %q", s.Env, v, got)
		}
	}
}

func TestLoad_DatabasePoolDefaultsAndLimits(t *testing.T) {
	c, err := Load(env(nil), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseMaxConns != 10 || c.DatabaseMaxIdleConns != 10 || c.DatabaseConnMaxIdleTime != 5*time.Minute ||
		c.DatabaseConnMaxLifetime != time.Hour || c.DatabaseStatementTimeout != 30*time.Second || c.DatabaseIdleTxTimeout != time.Minute {
		t.Fatalf("pool defaults = %d/%d idle %s life %s stmt %s idle tx %s", c.DatabaseMaxConns, c.DatabaseMaxIdleConns,
			c.DatabaseConnMaxIdleTime, c.DatabaseConnMaxLifetime, c.DatabaseStatementTimeout, c.DatabaseIdleTxTimeout)
	}
	c, err = Load(env(map[string]string{"HELPDESK_DATABASE_MAX_CONNS": "4", "HELPDESK_DATABASE_STATEMENT_TIMEOUT": "0"}), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.DatabaseMaxIdleConns != 4 || c.DatabaseStatementTimeout != 0 {
		t.Fatalf("idle connections %d (want max conns, 4), statement timeout %s (want 0: none)", c.DatabaseMaxIdleConns, c.DatabaseStatementTimeout)
	}
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HELPDESK_DATABASE_MAX_CONNS": "0"}, "HELPDESK_DATABASE_MAX_CONNS: want a whole number from 1 to 1000"},
		{map[string]string{"HELPDESK_DATABASE_MAX_CONNS": "4", "HELPDESK_DATABASE_MAX_IDLE_CONNS": "5"}, "HELPDESK_DATABASE_MAX_IDLE_CONNS (5) is more than HELPDESK_DATABASE_MAX_CONNS (4)"},
		{map[string]string{"HELPDESK_DATABASE_CONN_MAX_LIFETIME": "0"}, "HELPDESK_DATABASE_CONN_MAX_LIFETIME: want a positive duration"},
		{map[string]string{"HELPDESK_DATABASE_IDLE_TX_TIMEOUT": "-1s"}, "HELPDESK_DATABASE_IDLE_TX_TIMEOUT: want a duration such as 2m, or 0 for none"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			if _, err := Load(env(tc.env), ""); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestLoad_PprofAddressMustBeLoopback(t *testing.T) {
	for addr, ok := range map[string]bool{
		"127.0.0.1:6060": true, "[::1]:6060": true, "localhost:6060": true, "127.0.0.2:0": true,
		":6060": false, "0.0.0.0:6060": false, "192.168.1.10:6060": false, "[::]:6060": false, "example.com:6060": false, "6060": false,
	} {
		t.Run(addr, func(t *testing.T) {
			c, err := Load(env(map[string]string{"HELPDESK_PPROF_ADDR": addr}), "")
			if ok && (err != nil || c.PprofAddr != addr) {
				t.Fatalf("refused: %v", err)
			}
			if !ok && (err == nil || !strings.Contains(err.Error(), "HELPDESK_PPROF_ADDR")) {
				t.Fatalf("accepted (err %v)", err)
			}
		})
	}
	if c, err := Load(env(nil), ""); err != nil || c.PprofAddr != "" {
		t.Fatalf("pprof is on by default: %q, %v", c.PprofAddr, err)
	}
}

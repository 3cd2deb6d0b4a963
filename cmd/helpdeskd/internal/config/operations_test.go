package config

import (
	"strings"
	"testing"
	"time"
)

func TestOperations_DefaultsAndOperatorAddress(t *testing.T) {
	c, err := Load(env(nil), "")
	if err != nil {
		t.Fatal(err)
	}
	if c.AlarmAfter != 10*time.Minute || c.ShutdownTimeout != 10*time.Second || c.OperatorAddress != "" {
		t.Fatalf("defaults: alarm after %s, shutdown %s, operator %q", c.AlarmAfter, c.ShutdownTimeout, c.OperatorAddress)
	}
	if _, err := Load(env(map[string]string{"HELPDESK_OPERATOR_ADDRESS": "not an address"}), ""); err == nil ||
		!strings.Contains(err.Error(), "HELPDESK_OPERATOR_ADDRESS") {
		t.Fatalf("a malformed operator address: %v", err)
	}
	if _, err := Load(env(map[string]string{"HELPDESK_SHUTDOWN_TIMEOUT": "0s"}), ""); err == nil {
		t.Fatal("a zero shutdown timeout was accepted")
	}
	base := map[string]string{
		"HELPDESK_DATABASE_URL": "postgres://u@db/helpdesk?sslmode=disable", "HELPDESK_SUPPORT_ADDRESS": "support@example.com",
		"HELPDESK_TOKEN_SECRET": strings.Repeat("s", 40), "HELPDESK_IMAP_ADDR": "imap:993", "HELPDESK_IMAP_USERNAME": "support@example.com",
		"HELPDESK_IMAP_PASSWORD": "pw", "HELPDESK_SMTP_ADDR": "smtp:587", "HELPDESK_OPERATOR_ADDRESS": "SUPPORT@example.com",
	}
	c, err = Load(env(base), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RequireServe(); err == nil || !strings.Contains(err.Error(), "HELPDESK_OPERATOR_ADDRESS") {
		t.Fatalf("the support address as operator: %v", err)
	}
	base["HELPDESK_OPERATOR_ADDRESS"] = "ops@example.com"
	if c, err = Load(env(base), ""); err != nil {
		t.Fatal(err)
	}
	if err := c.RequireServe(); err != nil {
		t.Fatal(err)
	}
}

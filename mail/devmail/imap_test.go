package devmail

import (
	"bytes"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

func TestIMAP_LoginSelectFetchSeesDeliveredMail(t *testing.T) {
	tests := []struct {
		name    string
		login   func(c *imapclient.Client) error
		wantErr bool
	}{
		{"LOGIN", func(c *imapclient.Client) error { return c.Login(supportAddr, supportPass).Wait() }, false},
		{"LOGIN with the address in another case", func(c *imapclient.Client) error { return c.Login("SUPPORT@Example.COM", supportPass).Wait() }, false},
		{"AUTHENTICATE PLAIN", func(c *imapclient.Client) error {
			return c.Authenticate(sasl.NewPlainClient("", supportAddr, supportPass))
		}, false},
		{"LOGIN with a wrong password", func(c *imapclient.Client) error { return c.Login(supportAddr, "wrong").Wait() }, true},
		{"LOGIN with another user's password", func(c *imapclient.Client) error { return c.Login(supportAddr, agentPass).Wait() }, true},
		{"AUTHENTICATE PLAIN with a wrong password", func(c *imapclient.Client) error {
			return c.Authenticate(sasl.NewPlainClient("", supportAddr, "wrong"))
		}, true},
		{"LOGIN as an unknown user", func(c *imapclient.Client) error { return c.Login("ghost@example.com", supportPass).Wait() }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{})
			raw := readTestdata(t, "ks_c_5601-1987.eml")
			mustSend(t, s, tx{from: "kim@customer.example", rcpts: []string{supportAddr}, msg: raw})

			c := dialIMAP(t, s, nil)
			err := tt.login(c)
			if tt.wantErr {
				if err == nil {
					t.Fatal("login succeeded, want failure")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := fetchAll(t, c, "INBOX")
			if len(msgs) != 1 {
				t.Fatalf("INBOX has %d messages, want 1", len(msgs))
			}
			if !bytes.HasSuffix(msgs[0].raw, raw) || !bytes.Equal(msgs[0].raw, onlyMessage(t, s, supportAddr)) {
				t.Errorf("fetched message differs from what was delivered")
			}
			if len(msgs[0].flags) != 0 {
				t.Errorf("new mail has flags %v", msgs[0].flags)
			}
		})
	}
}

func TestIMAP_IdleClientWokenByNewMail(t *testing.T) {
	tests := []struct {
		name    string
		deliver func(t *testing.T, s *Server)
	}{
		{"SMTP delivery", func(t *testing.T, s *Server) {
			mustSend(t, s, tx{from: "c@customer.example", rcpts: []string{"support+tok@example.com"}, msg: simpleMessage("idle")})
		}},
		{"Deliver", func(t *testing.T, s *Server) {
			if err := s.Deliver(supportAddr, simpleMessage("idle")); err != nil {
				t.Fatal(err)
			}
		}},
		{"APPEND by another IMAP client", func(t *testing.T, s *Server) {
			c := loginIMAP(t, s, supportAddr, supportPass)
			msg := simpleMessage("idle")
			cmd := c.Append("INBOX", int64(len(msg)), nil)
			cmd.Write(msg)
			cmd.Close()
			if _, err := cmd.Wait(); err != nil {
				t.Fatal(err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{})
			exists := make(chan uint32, 16)
			c := dialIMAP(t, s, &imapclient.Options{UnilateralDataHandler: &imapclient.UnilateralDataHandler{
				Mailbox: func(d *imapclient.UnilateralDataMailbox) {
					if d.NumMessages != nil {
						select {
						case exists <- *d.NumMessages:
						default:
						}
					}
				},
			}})
			if err := c.Login(supportAddr, supportPass).Wait(); err != nil {
				t.Fatal(err)
			}
			if sel, err := c.Select("INBOX", nil).Wait(); err != nil || sel.NumMessages != 0 {
				t.Fatalf("select: %v, %d messages", err, sel.NumMessages)
			}
			idle, err := c.Idle()
			if err != nil {
				t.Fatal(err)
			}

			tt.deliver(t, s)

			select {
			case n := <-exists:
				if n != 1 {
					t.Errorf("EXISTS %d, want 1", n)
				}
			case <-time.After(generous):
				t.Fatal("IDLE client not told about the new message")
			}
			if err := idle.Close(); err != nil {
				t.Fatal(err)
			}
			if err := idle.Wait(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestIMAP_AppendStoresWhatFetchServes(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		wantErr bool
	}{
		{"CRLF 8-bit message kept byte for byte", "ks_c_5601-1987.eml", false},
		{"LF message stored with CRLF", "dsn-rfc3464-lf.eml", false},
		{"header without colon refused", "header-without-colon.eml", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := startServer(t, Config{})
			c := loginIMAP(t, s, supportAddr, supportPass)
			raw := readTestdata(t, tt.file)
			cmd := c.Append("INBOX", int64(len(raw)), nil)
			cmd.Write(raw)
			cmd.Close()
			_, err := cmd.Wait()
			if tt.wantErr {
				if err == nil {
					t.Fatal("APPEND succeeded")
				}
				if msgs, _ := s.Mailbox(supportAddr, "INBOX"); len(msgs) != 0 {
					t.Errorf("INBOX has %d messages, want none", len(msgs))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			msgs := fetchAll(t, c, "INBOX")
			if len(msgs) != 1 || !bytes.Equal(msgs[0].raw, crlf(raw)) {
				t.Errorf("fetched %d messages, first differs from the appended one", len(msgs))
			}
		})
	}
}

func TestIMAP_InboxCannotBeDeletedOrRenamed(t *testing.T) {
	s := startServer(t, Config{})
	c := loginIMAP(t, s, supportAddr, supportPass)
	if err := c.Delete("INBOX").Wait(); err == nil {
		t.Error("DELETE INBOX succeeded")
	}
	if err := c.Rename("INBOX", "Old", nil).Wait(); err == nil {
		t.Error("RENAME INBOX succeeded")
	}
	if err := s.Deliver(supportAddr, simpleMessage("after")); err != nil {
		t.Fatalf("delivery after DELETE/RENAME INBOX: %v", err)
	}
	onlyMessage(t, s, supportAddr)
}

func TestIMAP_FoldersAndMoveWork(t *testing.T) {
	s := startServer(t, Config{})
	for i := 0; i < 3; i++ {
		if err := s.Deliver(supportAddr, simpleMessage("m"+string(rune('1'+i)))); err != nil {
			t.Fatal(err)
		}
	}
	c := loginIMAP(t, s, supportAddr, supportPass)
	if err := c.Create("Processed", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	data, err := c.Move(imap.UIDSetNum(2), "Processed").Wait()
	if err != nil {
		t.Fatal(err)
	}
	if data.UIDValidity == 0 || data.DestUIDs.String() != "1" {
		t.Errorf("MOVE without COPYUID data: %+v", data)
	}
	inbox, _ := s.Mailbox(supportAddr, "INBOX")
	processed, _ := s.Mailbox(supportAddr, "Processed")
	if len(inbox) != 2 || len(processed) != 1 || !bytes.Contains(processed[0], []byte("Subject: m2")) {
		t.Errorf("after MOVE: INBOX %d, Processed %d messages", len(inbox), len(processed))
	}
}

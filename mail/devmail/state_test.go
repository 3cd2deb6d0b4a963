package devmail

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// mailState is everything a client can see of one user's mailboxes.
type mailState struct {
	folders    []string
	subscribed []string
	messages   map[string][]fetched
}

func readState(t *testing.T, c *imapclient.Client) mailState {
	t.Helper()
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		t.Fatal(err)
	}
	st := mailState{messages: map[string][]fetched{}}
	for _, d := range list {
		st.folders = append(st.folders, d.Mailbox)
		if slices.Contains(d.Attrs, imap.MailboxAttrSubscribed) {
			st.subscribed = append(st.subscribed, d.Mailbox)
		}
		st.messages[d.Mailbox] = fetchAll(t, c, d.Mailbox)
	}
	slices.Sort(st.folders)
	slices.Sort(st.subscribed)
	return st
}

// folderUIDState is what a client's cursor depends on.
type folderUIDState struct {
	validity uint32
	next     imap.UID
	uids     []imap.UID
}

func (a folderUIDState) equal(b folderUIDState) bool {
	return a.validity == b.validity && a.next == b.next && slices.Equal(a.uids, b.uids)
}

func uidStates(t *testing.T, c *imapclient.Client, folders []string) map[string]folderUIDState {
	t.Helper()
	out := map[string]folderUIDState{}
	for _, f := range folders {
		sel, err := c.Select(f, &imap.SelectOptions{ReadOnly: true}).Wait()
		if err != nil {
			t.Fatalf("select %s: %v", f, err)
		}
		st := folderUIDState{validity: sel.UIDValidity, next: sel.UIDNext}
		if sel.NumMessages > 0 {
			bufs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true}).Collect()
			if err != nil {
				t.Fatalf("fetch %s: %v", f, err)
			}
			for _, b := range bufs {
				st.uids = append(st.uids, b.UID)
			}
		}
		out[f] = st
	}
	return out
}

func compareState(t *testing.T, got, want mailState) {
	t.Helper()
	if !slices.Equal(got.folders, want.folders) {
		t.Fatalf("folders %q, want %q", got.folders, want.folders)
	}
	if !slices.Equal(got.subscribed, want.subscribed) {
		t.Errorf("subscribed %q, want %q", got.subscribed, want.subscribed)
	}
	for _, f := range want.folders {
		g, w := got.messages[f], want.messages[f]
		if len(g) != len(w) {
			t.Errorf("%s: %d messages, want %d", f, len(g), len(w))
			continue
		}
		for i := range w {
			if !bytes.Equal(g[i].raw, w[i].raw) {
				t.Errorf("%s #%d: bytes differ", f, i+1)
			}
			if !slices.Equal(g[i].flags, w[i].flags) {
				t.Errorf("%s #%d: flags %v, want %v", f, i+1, g[i].flags, w[i].flags)
			}
			if !g[i].date.Equal(w[i].date) {
				t.Errorf("%s #%d: internal date %v, want %v", f, i+1, g[i].date, w[i].date)
			}
		}
	}
}

// populate gives the support user mail in INBOX and in folders it made,
// with flags, and the agent a directly delivered LF message.
func populate(t *testing.T, s *Server) {
	t.Helper()
	mustSend(t, s, tx{from: "kim@customer.example", rcpts: []string{"support+t1@example.com"}, msg: readTestdata(t, "ks_c_5601-1987.eml")})
	mustSend(t, s, tx{from: "", rcpts: []string{supportAddr}, msg: readTestdata(t, "dsn-rfc3464-lf.eml")})
	mustSend(t, s, tx{from: "c@customer.example", rcpts: []string{supportAddr}, msg: simpleMessage("third")})
	if err := s.Deliver(agentAddr, readTestdata(t, "dsn-rfc3464-lf.eml")); err != nil {
		t.Fatal(err)
	}

	c := loginIMAP(t, s, supportAddr, supportPass)
	for _, f := range []string{"Processed", "Failed", "Archive/2024", "..", "처리됨"} {
		if err := c.Create(f, nil).Wait(); err != nil {
			t.Fatalf("create %s: %v", f, err)
		}
	}
	if err := c.Subscribe("Processed").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Move(imap.UIDSetNum(2), "Processed").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(imap.UIDSetNum(3), "처리됨").Wait(); err != nil {
		t.Fatal(err)
	}
	store := &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen, imap.FlagFlagged, "$Label1"}}
	if err := c.Store(imap.UIDSetNum(1), store, nil).Close(); err != nil {
		t.Fatal(err)
	}
}

func TestState_SurvivesCloseAndStart(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Config{StateDir: dir})
	populate(t, s)
	c := loginIMAP(t, s, supportAddr, supportPass)
	// A folder deleted and made again has had two UIDVALIDITY values.
	for _, cmd := range []func() error{
		func() error { return c.Create("Tmp", nil).Wait() },
		func() error { return c.Delete("Tmp").Wait() },
		func() error { return c.Create("Tmp", nil).Wait() },
	} {
		if err := cmd(); err != nil {
			t.Fatal(err)
		}
	}
	want := readState(t, c)
	validity := uidStates(t, c, want.folders)
	if v := validity["INBOX"]; len(v.uids) != 2 || v.uids[0] != 1 || v.uids[1] != 3 || v.next != 4 {
		t.Fatalf("set-up: INBOX %+v, want UIDs 1 and 3, UIDNEXT 4", v)
	}
	wantAgent := readState(t, loginIMAP(t, s, agentAddr, agentPass))
	if len(want.messages["Processed"]) != 1 || len(want.messages["INBOX"]) != 2 {
		t.Fatalf("set-up: INBOX %d, Processed %d", len(want.messages["INBOX"]), len(want.messages["Processed"]))
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	if fi, err := os.Stat(filepath.Join(dir, currentDir, indexFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("index: %v, mode %v; want 0600 (it holds passwords)", err, fi.Mode())
	}

	// Two restarts: the second also checks that a loaded state saves again.
	for round := 1; round <= 2; round++ {
		s2, err := Start(Config{StateDir: dir})
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		// No AddUser: users and passwords come back from the state.
		c := loginIMAP(t, s2, supportAddr, supportPass)
		compareState(t, readState(t, c), want)
		// UIDVALIDITY, UIDs and UIDNEXT come back as they were (INBOX lost
		// UID 2 to the MOVE, and its UIDNEXT stays past it), so a client's
		// (UIDVALIDITY, UID) cursor stays valid: no rescan after a restart.
		if got := uidStates(t, c, want.folders); !maps.EqualFunc(got, validity, folderUIDState.equal) {
			t.Errorf("round %d: folders after the restart %v, want %v", round, got, validity)
		}
		compareState(t, readState(t, c), want)
		compareState(t, readState(t, loginIMAP(t, s2, agentAddr, agentPass)), wantAgent)
		if err := s2.AddUser(supportAddr, supportPass); err != nil {
			t.Errorf("round %d: AddUser with the saved password: %v", round, err)
		}
		if err := s2.Close(); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
	}

	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != currentDir {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("state dir holds %q, want only %q", names, currentDir)
	}
}

func TestState_NewMailAfterRestartIsSavedToo(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Config{StateDir: dir})
	if err := s.Deliver(supportAddr, simpleMessage("before")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Start(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	mustSend(t, s2, tx{from: "c@customer.example", rcpts: []string{supportAddr}, msg: simpleMessage("after")})
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	s3, err := Start(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s3.Close()
	msgs, err := s3.Mailbox(supportAddr, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 2 || !bytes.Contains(msgs[0], []byte("Subject: before")) || !bytes.Contains(msgs[1], []byte("Subject: after")) {
		t.Errorf("INBOX after two restarts: %d messages, want before then after", len(msgs))
	}
}

func TestState_InterruptedSaveFallsBackToCompleteSnapshot(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, Config{StateDir: dir})
	if err := s.Deliver(supportAddr, simpleMessage("kept")); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash between the two renames of a save: the complete snapshot
	// sits in previous/ and a half-written one in .saving-*.
	if err := os.Rename(filepath.Join(dir, currentDir), filepath.Join(dir, previousDir)); err != nil {
		t.Fatal(err)
	}
	partial := filepath.Join(dir, savingPrefix+"123")
	if err := os.MkdirAll(filepath.Join(partial, "x"), 0o700); err != nil {
		t.Fatal(err)
	}

	s2, err := Start(Config{StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if msgs, err := s2.Mailbox(supportAddr, "INBOX"); err != nil || len(msgs) != 1 || !bytes.Contains(msgs[0], []byte("Subject: kept")) {
		t.Errorf("INBOX: %d messages, %v; want the kept one", len(msgs), err)
	}
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("leftover of an interrupted save not removed: %v", err)
	}
	if err := s2.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, previousDir)); !os.IsNotExist(err) {
		t.Errorf("previous snapshot not removed after a good save: %v", err)
	}
}

func TestState_DamagedSnapshotRefusesToStart(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, cur string)
	}{
		{"index is not JSON", func(t *testing.T, cur string) {
			os.WriteFile(filepath.Join(cur, indexFile), []byte("{not json"), 0o600)
		}},
		{"index of an unknown version", func(t *testing.T, cur string) {
			os.WriteFile(filepath.Join(cur, indexFile), []byte(`{"version": 99}`), 0o600)
		}},
		{"a message file is missing", func(t *testing.T, cur string) {
			files, _ := filepath.Glob(filepath.Join(cur, "*", "*", "*.eml"))
			if len(files) == 0 {
				t.Fatal("no message files in the snapshot")
			}
			os.Remove(files[0])
		}},
		{"a message path escapes the snapshot", func(t *testing.T, cur string) {
			b, _ := os.ReadFile(filepath.Join(cur, indexFile))
			b = bytes.Replace(b, []byte(`"file": "`), []byte(`"file": "../../`), 1)
			os.WriteFile(filepath.Join(cur, indexFile), b, 0o600)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServer(t, Config{StateDir: dir})
			if err := s.Deliver(supportAddr, simpleMessage("m")); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			tt.damage(t, filepath.Join(dir, currentDir))
			s2, err := Start(Config{StateDir: dir})
			if err == nil {
				s2.Close()
				t.Fatal("Start succeeded on a damaged snapshot; state would be lost at the next Close")
			}
		})
	}
}

func TestEscapeName_DistinctSafePathElements(t *testing.T) {
	tests := []struct{ in, want string }{
		{"INBOX", "INBOX"},
		{"support@example.com", "support@example.com"},
		{"Archive/2024", "Archive%2F2024"},
		{"..", "%2E."},
		{".hidden", "%2Ehidden"},
		{"a%2Fb", "a%252Fb"},
		{"처리", "%EC%B2%98%EB%A6%AC"},
	}
	for _, tt := range tests {
		if got := escapeName(tt.in); got != tt.want {
			t.Errorf("escapeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestState_RestartKeepsCursorsValid: after a restart, new mail gets the
// UID after the last one before it, and a folder made now gets a
// UIDVALIDITY no folder had before; a state saved without UIDs (by an older
// version) is renumbered under UIDVALIDITY values above the old ones.
func TestState_RestartKeepsCursorsValid(t *testing.T) {
	for _, tc := range []struct {
		name       string
		stripUIDs  bool // the state as older versions saved it
		crashed    bool // a later run stopped without saving
		renumber   bool // Config.RenumberUIDs
		sameCursor bool
	}{
		{name: "state with UIDs keeps UIDVALIDITY and UIDs", sameCursor: true},
		{name: "state without UIDs gets new UIDVALIDITY values", stripUIDs: true},
		{name: "after a crash the older snapshot gets new UIDVALIDITY values", crashed: true},
		{name: "RenumberUIDs gives new UIDVALIDITY values", renumber: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s := startServer(t, Config{StateDir: dir})
			for _, subj := range []string{"one", "two", "three"} {
				mustSend(t, s, tx{from: "c@customer.example", rcpts: []string{supportAddr}, msg: simpleMessage(subj)})
			}
			c := loginIMAP(t, s, supportAddr, supportPass)
			if err := c.Create("Processed", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Select("INBOX", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			if _, err := c.Move(imap.UIDSetNum(1, 2), "Processed").Wait(); err != nil {
				t.Fatal(err)
			}
			before := uidStates(t, c, []string{"INBOX", "Processed"})
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if tc.stripUIDs {
				stripStateUIDs(t, filepath.Join(dir, currentDir, indexFile))
			}
			if tc.crashed {
				if err := os.WriteFile(filepath.Join(dir, runningFile), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}

			s2, err := Start(Config{StateDir: dir, RenumberUIDs: tc.renumber})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			mustSend(t, s2, tx{from: "c@customer.example", rcpts: []string{supportAddr}, msg: simpleMessage("four")})
			c2 := loginIMAP(t, s2, supportAddr, supportPass)
			if err := c2.Create("New", nil).Wait(); err != nil {
				t.Fatal(err)
			}
			after := uidStates(t, c2, []string{"INBOX", "Processed", "New"})
			maxBefore := max(before["INBOX"].validity, before["Processed"].validity)
			if after["New"].validity <= maxBefore {
				t.Errorf("a folder made after the restart has UIDVALIDITY %d, want above %d", after["New"].validity, maxBefore)
			}
			in, inBefore := after["INBOX"], before["INBOX"]
			if tc.sameCursor {
				if in.validity != inBefore.validity || !slices.Equal(in.uids, []imap.UID{3, 4}) || in.next != 5 {
					t.Errorf("INBOX after restart and one more mail: %+v, want UIDVALIDITY %d, UIDs [3 4], UIDNEXT 5", in, inBefore.validity)
				}
				if !after["Processed"].equal(before["Processed"]) {
					t.Errorf("Processed after restart: %+v, want %+v", after["Processed"], before["Processed"])
				}
			} else {
				for _, f := range []string{"INBOX", "Processed"} {
					if after[f].validity <= maxBefore {
						t.Errorf("%s: UIDVALIDITY %d after renumbering, want above %d", f, after[f].validity, maxBefore)
					}
				}
				if len(in.uids) != 2 {
					t.Errorf("INBOX after restart and one more mail: %+v, want 2 messages", in)
				}
			}
		})
	}
}

// stripStateUIDs rewrites a saved index as versions without UIDs wrote it.
func stripStateUIDs(t *testing.T, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var idx stateIndex
	if err := json.Unmarshal(b, &idx); err != nil {
		t.Fatal(err)
	}
	for i := range idx.Users {
		for j := range idx.Users[i].Folders {
			f := &idx.Users[i].Folders[j]
			f.UIDValidity, f.UIDNext = 0, 0
			for k := range f.Messages {
				f.Messages[k].UID = 0
			}
		}
	}
	if b, err = json.Marshal(idx); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

package devmail

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// The state directory holds one complete snapshot:
//
//	<StateDir>/current/index.json                      users, passwords, folders, flags, dates (0600)
//	<StateDir>/current/<address>/<NN>-<folder>/<n>.eml raw messages
//
// A save writes a fresh snapshot beside it and swaps it in by renames, so
// that either the old or the new snapshot is complete at any moment;
// "previous" holds the old one during the swap.
const (
	stateVersion = 1
	currentDir   = "current"
	previousDir  = "previous"
	savingPrefix = ".saving-"
	indexFile    = "index.json"
	// runningFile exists while a server runs on the state directory; found
	// at Start, it says the last one stopped without saving (it crashed),
	// so clients may have seen UIDs the snapshot does not have.
	runningFile = "running"
)

type stateIndex struct {
	Version int         `json:"version"`
	SavedAt time.Time   `json:"saved_at"`
	Users   []stateUser `json:"users"`
}

type stateUser struct {
	Address  string `json:"address"`
	Password string `json:"password"`
	// UIDValidityFloor is at least every UIDVALIDITY the user's folders
	// ever had; after a load they all get higher ones.
	UIDValidityFloor uint32        `json:"uid_validity_floor"`
	Folders          []stateFolder `json:"folders"`
}

type stateFolder struct {
	Name       string `json:"name"`
	Subscribed bool   `json:"subscribed,omitempty"`
	// UIDValidity and UIDNext come back on load, with each message's UID,
	// so that clients' cursors stay valid. Absent in older states.
	UIDValidity uint32         `json:"uid_validity,omitempty"`
	UIDNext     uint32         `json:"uid_next,omitempty"`
	Messages    []stateMessage `json:"messages"`
}

type stateMessage struct {
	UID          uint32      `json:"uid,omitempty"`
	File         string      `json:"file"` // relative to the snapshot
	Flags        []imap.Flag `json:"flags"`
	InternalDate time.Time   `json:"internal_date"`
}

// save writes every user's folders to a new snapshot and swaps it in.
func (s *Server) save() error {
	dir := s.cfg.StateDir
	tmp, err := os.MkdirTemp(dir, savingPrefix)
	if err != nil {
		return fmt.Errorf("devmail: save state: %w", err)
	}
	if err := s.writeSnapshot(tmp); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("devmail: save state: %w", err)
	}
	cur, prev := filepath.Join(dir, currentDir), filepath.Join(dir, previousDir)
	if _, err := os.Stat(cur); err == nil {
		if err := os.RemoveAll(prev); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("devmail: save state: %w", err)
		}
		if err := os.Rename(cur, prev); err != nil {
			os.RemoveAll(tmp)
			return fmt.Errorf("devmail: save state: %w", err)
		}
	}
	// Without a current snapshot, previous (if any) stays the fallback
	// until the new one is in place.
	if err := os.Rename(tmp, cur); err != nil {
		os.RemoveAll(tmp)
		return fmt.Errorf("devmail: save state: %w", err)
	}
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("devmail: save state: %w", err)
	}
	if err := os.RemoveAll(prev); err != nil {
		return fmt.Errorf("devmail: save state: %w", err)
	}
	if err := os.Remove(filepath.Join(dir, runningFile)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("devmail: save state: %w", err)
	}
	return nil
}

func (s *Server) writeSnapshot(root string) error {
	idx := stateIndex{Version: stateVersion, SavedAt: time.Now().UTC()}
	messages := 0
	for _, u := range s.sortedUsers() {
		floor, err := uidValidityCounter(u.mem)
		if err != nil {
			return fmt.Errorf("user %s: %w", u.address, err)
		}
		su := stateUser{Address: u.address, Password: u.password, UIDValidityFloor: floor}
		err = s.withClient(u, func(ic *internalClient) error {
			folders, err := ic.folders()
			if err != nil {
				return err
			}
			for i, f := range folders {
				rel := filepath.Join(escapeName(u.address), fmt.Sprintf("%02d-%s", i+1, escapeName(f.name)))
				if err := os.MkdirAll(filepath.Join(root, rel), 0o700); err != nil {
					return err
				}
				sf := stateFolder{Name: f.name, Subscribed: f.subscribed, Messages: []stateMessage{}}
				sel, err := ic.messages(f.name, func(m storedMessage) error {
					file := filepath.Join(rel, fmt.Sprintf("%06d.eml", len(sf.Messages)+1))
					if err := writeFileSync(filepath.Join(root, file), m.raw); err != nil {
						return err
					}
					sf.Messages = append(sf.Messages, stateMessage{UID: uint32(m.uid), File: filepath.ToSlash(file), Flags: m.flags, InternalDate: m.date})
					return nil
				})
				if err != nil {
					return err
				}
				sf.UIDValidity, sf.UIDNext = sel.UIDValidity, uint32(sel.UIDNext)
				messages += len(sf.Messages)
				su.Folders = append(su.Folders, sf)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("user %s: %w", u.address, err)
		}
		idx.Users = append(idx.Users, su)
	}
	data, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileSync(filepath.Join(root, indexFile), data); err != nil {
		return err
	}
	s.log.Info("devmail: state saved", "dir", s.cfg.StateDir, "users", len(idx.Users), "messages", messages)
	return nil
}

// load restores the newest complete snapshot, if any, and removes
// leftovers of an interrupted save.
func (s *Server) load() error {
	dir := s.cfg.StateDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("devmail: state dir: %w", err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(dir, savingPrefix+"*"))
	for _, l := range leftovers {
		if err := os.RemoveAll(l); err != nil {
			return fmt.Errorf("devmail: state dir: %w", err)
		}
	}
	var root string
	var data []byte
	for _, name := range []string{currentDir, previousDir} {
		b, err := os.ReadFile(filepath.Join(dir, name, indexFile))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("devmail: load state: %w", err)
		}
		root, data = filepath.Join(dir, name), b
		break
	}
	// After a crash, the snapshot is older than what clients saw: keeping
	// its UIDVALIDITY would let new mail reuse UIDs they already passed.
	_, err := os.Stat(filepath.Join(dir, runningFile))
	crashed := err == nil || s.cfg.RenumberUIDs
	if err := os.WriteFile(filepath.Join(dir, runningFile), nil, 0o600); err != nil {
		return fmt.Errorf("devmail: state dir: %w", err)
	}
	if root == "" {
		return nil // a fresh state directory
	}
	var idx stateIndex
	if err := json.Unmarshal(data, &idx); err != nil {
		return fmt.Errorf("devmail: load state %s: %w", root, err)
	}
	if idx.Version != stateVersion {
		return fmt.Errorf("devmail: load state %s: unknown version %d", root, idx.Version)
	}
	messages := 0
	for _, su := range idx.Users {
		n, err := s.loadUser(root, su, !crashed)
		if err != nil {
			return fmt.Errorf("devmail: load state %s: user %s: %w", root, su.Address, err)
		}
		messages += n
	}
	s.log.Info("devmail: state loaded", "dir", root, "users", len(idx.Users), "messages", messages, "uids_kept", !crashed)
	return nil
}

func (s *Server) loadUser(root string, su stateUser, keepUIDs bool) (int, error) {
	addr, err := canonicalAddress(su.Address)
	if err != nil {
		return 0, err
	}
	if keepUIDs && keepsUIDs(su) {
		return s.restoreUser(root, addr, su)
	}
	floor := su.UIDValidityFloor
	if !keepUIDs {
		// The run that crashed may have made folders above the floor.
		floor += crashMargin
	}
	u, err := s.addUser(addr, su.Password, floor)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, f := range su.Folders {
		if !strings.EqualFold(f.Name, "INBOX") {
			if err := u.mem.Create(f.Name, nil); err != nil {
				return n, fmt.Errorf("create %s: %w", f.Name, err)
			}
		}
		for _, m := range f.Messages {
			raw, err := readMessage(root, f, m)
			if err != nil {
				return n, err
			}
			opts := &imap.AppendOptions{Flags: m.Flags, Time: m.InternalDate}
			if _, err := u.mem.Append(f.Name, literal{bytes.NewReader(raw)}, opts); err != nil {
				return n, fmt.Errorf("folder %s: %w", f.Name, err)
			}
			n++
		}
		if f.Subscribed {
			if err := u.mem.Subscribe(f.Name); err != nil {
				return n, fmt.Errorf("subscribe %s: %w", f.Name, err)
			}
		}
	}
	return n, nil
}

// crashMargin is how many folders a run that crashed may have made since
// its last save without their UIDVALIDITY coming back after it.
const crashMargin = 1000

// maxUIDGap bounds the placeholder messages a restore appends (and
// expunges) to bring UIDs back; a state beyond it is renumbered instead.
const maxUIDGap = 1 << 20

// keepsUIDs reports whether su holds every folder's UIDVALIDITY, UIDNEXT
// and message UIDs, consistent enough to restore them exactly.
func keepsUIDs(su stateUser) bool {
	seen := map[uint32]bool{}
	gaps := uint64(0)
	for _, f := range su.Folders {
		if f.UIDValidity == 0 || f.UIDNext == 0 || seen[f.UIDValidity] || f.UIDValidity > su.UIDValidityFloor {
			return false
		}
		seen[f.UIDValidity] = true
		prev := uint32(0)
		for _, m := range f.Messages {
			if m.UID <= prev || m.UID >= f.UIDNext {
				return false
			}
			prev = m.UID
		}
		gaps += uint64(f.UIDNext) - 1 - uint64(len(f.Messages))
	}
	return gaps <= maxUIDGap
}

// restoreUser makes the user's folders again with their saved UIDVALIDITY,
// UIDs and UIDNEXT. imapmemserver numbers UIDVALIDITY per user with each
// Create and UIDs per folder with each Append, so values are reached by
// creating and deleting a placeholder folder, and by appending placeholder
// messages and expunging them.
func (s *Server) restoreUser(root, addr string, su stateUser) (int, error) {
	s.usersMu.Lock()
	defer s.usersMu.Unlock()
	if s.users[addr] != nil {
		return 0, fmt.Errorf("devmail: user %s twice in the state", addr)
	}
	u := &user{address: addr, password: su.Password, mem: imapmemserver.NewUser(addr, su.Password)}
	folders := append([]stateFolder(nil), su.Folders...)
	sort.Slice(folders, func(i, j int) bool { return folders[i].UIDValidity < folders[j].UIDValidity })
	counter := uint32(0) // the user's last UIDVALIDITY
	burn := func(upTo uint32) error {
		for ; counter < upTo; counter++ {
			if err := u.mem.Create(burnFolder, nil); err != nil {
				return err
			}
			if err := u.mem.Delete(burnFolder); err != nil {
				return err
			}
		}
		return nil
	}
	n := 0
	for _, f := range folders {
		if err := burn(f.UIDValidity - 1); err != nil {
			return n, err
		}
		if err := u.mem.Create(f.Name, nil); err != nil {
			return n, fmt.Errorf("create %s: %w", f.Name, err)
		}
		counter++
		k, err := restoreFolder(u.mem, root, f)
		n += k
		if err != nil {
			return n, err
		}
		if f.Subscribed {
			if err := u.mem.Subscribe(f.Name); err != nil {
				return n, fmt.Errorf("subscribe %s: %w", f.Name, err)
			}
		}
	}
	if err := burn(su.UIDValidityFloor); err != nil {
		return n, err
	}
	if _, err := u.mem.Status("INBOX", &imap.StatusOptions{}); err != nil {
		if err := u.mem.Create("INBOX", nil); err != nil {
			return n, err
		}
	}
	s.users[addr] = u
	return n, nil
}

// burnFolder is a name no client can give a folder (imapmemserver keeps
// names as given; IMAP cannot carry a NUL).
const burnFolder = "\x00devmail-burn"

// restoreFolder appends f's messages at their saved UIDs and brings UIDNEXT
// back, with placeholders in the gaps that are expunged at the end.
func restoreFolder(mem *imapmemserver.User, root string, f stateFolder) (int, error) {
	var fillers imap.UIDSet
	next := uint32(1)
	filler := func(upTo uint32) error {
		for ; next < upTo; next++ {
			if _, err := mem.Append(f.Name, literal{bytes.NewReader([]byte("Subject: placeholder\r\n\r\n"))}, &imap.AppendOptions{Flags: []imap.Flag{imap.FlagDeleted}}); err != nil {
				return err
			}
			fillers.AddNum(imap.UID(next))
		}
		return nil
	}
	n := 0
	for _, m := range f.Messages {
		if err := filler(m.UID); err != nil {
			return n, fmt.Errorf("folder %s: %w", f.Name, err)
		}
		raw, err := readMessage(root, f, m)
		if err != nil {
			return n, err
		}
		data, err := mem.Append(f.Name, literal{bytes.NewReader(raw)}, &imap.AppendOptions{Flags: m.Flags, Time: m.InternalDate})
		if err != nil {
			return n, fmt.Errorf("folder %s: %w", f.Name, err)
		}
		if uint32(data.UID) != m.UID || data.UIDValidity != f.UIDValidity {
			return n, fmt.Errorf("folder %s: restored as %d/%d, want %d/%d", f.Name, data.UIDValidity, data.UID, f.UIDValidity, m.UID)
		}
		next++
		n++
	}
	if err := filler(f.UIDNext); err != nil {
		return n, fmt.Errorf("folder %s: %w", f.Name, err)
	}
	if len(fillers) == 0 {
		return n, nil
	}
	sess := imapmemserver.NewUserSession(mem)
	defer sess.Close()
	if _, err := sess.Select(f.Name, nil); err != nil {
		return n, fmt.Errorf("folder %s: %w", f.Name, err)
	}
	if err := sess.Expunge(nil, &fillers); err != nil {
		return n, fmt.Errorf("folder %s: %w", f.Name, err)
	}
	return n, nil
}

func readMessage(root string, f stateFolder, m stateMessage) ([]byte, error) {
	if !filepath.IsLocal(filepath.FromSlash(m.File)) {
		return nil, fmt.Errorf("folder %s: bad file name %q", f.Name, m.File)
	}
	raw, err := os.ReadFile(filepath.Join(root, filepath.FromSlash(m.File)))
	if err != nil {
		return nil, fmt.Errorf("folder %s: %w", f.Name, err)
	}
	return raw, nil
}

// uidValidityCounter returns the UIDVALIDITY the user's next folder would
// get, found by creating and deleting a probe folder (imapmemserver has no
// getter). Only called once no client can see the user's folders.
func uidValidityCounter(mem *imapmemserver.User) (uint32, error) {
	for i := 0; i < 100; i++ {
		name := fmt.Sprintf("devmail-probe-%d", i)
		if err := mem.Create(name, nil); err != nil {
			continue // a folder of that name exists
		}
		st, err := mem.Status(name, &imap.StatusOptions{UIDValidity: true})
		if derr := mem.Delete(name); err == nil {
			err = derr
		}
		if err != nil {
			return 0, fmt.Errorf("probe UIDVALIDITY: %w", err)
		}
		return st.UIDValidity, nil
	}
	return 0, errors.New("probe UIDVALIDITY: no free probe folder name")
}

// escapeName makes an address or folder name one safe path element:
// letters, digits and a few marks stay, everything else (a leading dot
// included) becomes %XX.
func escapeName(name string) string {
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9',
			c == '@', c == '_', c == '-', c == '+', c == '=', c == ',',
			c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

func writeFileSync(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

package helpdesk

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"

	"github.com/helpdesk/helpdesk/helpdesk/lifecycle"
	"github.com/helpdesk/helpdesk/mail"
	"github.com/helpdesk/helpdesk/threading"
)

// A batch goes through ingest in one transaction, in five steps:
//
//  1. prepare: parse each mail; raw bytes and attachment content stay in
//     memory (a mail over heldLimit streams into the transaction instead);
//  2. gather: load what the decisions need in a fixed number of set
//     queries (world.go);
//  3. decide: one pure decision per mail, in mailbox order, each seeing
//     the effects of the ones before (decide*.go);
//  4. reserve ids for what the decisions create and render the notices;
//  5. apply: multi-row writes, the mailbox cursor moved once (apply.go).

// heldLimit is the largest mail held in memory while its batch is decided.
const heldLimit = 8 << 20

// prepared is one parsed mail of a batch and what is decided about it.
type prepared struct {
	in        Inbound
	now       time.Time
	msg       *mail.Message
	class     threading.Classification
	replyText string
	tiRoot    string
	raw       storedBlob
	blobs     map[*mail.Attachment]*storedBlob
	rowID     int64
	dup       bool
	out       outcomeRec
	webFrom   string // a web form's own From, when the decider made its requester the sender
}

// storedBlob is content kept in the database: already streamed there (id
// set), or held in data until the batch is written.
type storedBlob struct {
	id    int64
	fresh bool // held content first stored by this batch
	data  []byte
	sum   []byte
	size  int64
}

// outcomeRec is what was decided about a mail, as `why` shows it.
type outcomeRec struct {
	c                                          *caseView
	decision, rule, reason, tokenCheck, access string
	linked                                     bool      // a comment keeps its attachments
	followUpOf                                 *caseView // the closed case a follow-up continues
}

// plan is everything a batch writes, in the order it was decided.
type plan struct {
	users        []*User
	cases        []*caseView
	comments     []*plannedComment
	events       []*plannedEvent
	participants []plannedParticipant
	grantNotices []plannedGrantNotice
	suppressions []plannedSuppression
	notices      []*notice
	self         selfServicePlan // known-issue links and subscriptions (selfservice_store.go)
	fix          *numberFix      // provisional case numbers → real ones
}

type plannedComment struct {
	c      *caseView
	author *User
	msg    *prepared
	public bool
	// internal: an agent's note; a comment neither public nor internal is
	// held for review.
	internal bool
	body     string
	now      time.Time
	id       int64
}

type plannedEvent struct {
	c      *caseView
	actor  *User
	msg    *prepared // nil: not caused by a mail
	e      NewEvent
	toCase *caseView // a case whose number is the event's To
}

type plannedParticipant struct {
	c       *caseView
	u       *User
	role    string // cc, customer, new_address, released
	address string // the address they were added as
	addedBy *User  // nil: the system
	reason  string
	now     time.Time
}

// plannedGrantNotice records that a reseller was told a customer org has
// not granted it access.
type plannedGrantNotice struct {
	reseller *User
	org      int64
	now      time.Time
}

type plannedSuppression struct {
	c   *caseView
	msg *prepared
	s   suppression
}

// runBatch ingests batch inside tx. A duplicate Message-ID is reported in
// its Result and changes nothing but the cursor.
func (g *Ingester) runBatch(ctx context.Context, tx Queryer, batch []Inbound) ([]Result, error) {
	return g.runBatchWith(ctx, tx, batch, nil)
}

// runBatchWith is runBatch; a release order (held.go) decides its one
// stored mail as an operator released it.
func (g *Ingester) runBatchWith(ctx context.Context, tx Queryer, batch []Inbound, order *releaseOrder) ([]Result, error) {
	if err := lockCursor(ctx, tx, batch[0]); err != nil {
		return nil, err
	}
	preps := make([]*prepared, len(batch))
	for i, in := range batch {
		p, err := g.prepare(ctx, tx, in)
		if err != nil {
			return nil, fmt.Errorf("message %d of %d (uid %d): %w", i+1, len(batch), in.UID, err)
		}
		preps[i] = p
	}
	k := g.keys(preps)
	if order != nil {
		preps[0].rowID = order.rowID // the released mail keeps its id
		if order.caseID != 0 {
			k.caseIDs[order.caseID] = true
		}
		if order.operator != nil {
			k.addrs.add(order.operator.LoginEmail)
		}
	}
	w, err := gather(ctx, tx, k, &g.cfg, preps[0].now)
	if err != nil {
		return nil, err
	}
	pl := &plan{}
	for _, p := range preps {
		if w.stored[p.msg.MessageID] {
			p.dup = true
			continue
		}
		w.stored[p.msg.MessageID] = true
		d := &decider{w: w, cfg: &g.cfg, n: g.cfg.Notifier, plan: pl, p: p, now: p.now, release: order}
		if err := d.decide(); err != nil {
			return nil, fmt.Errorf("message <%s>: %w", p.msg.MessageID, err)
		}
		w.learn(p)
	}
	if err := reserveIDs(ctx, tx, pl, preps, w, g.cfg.Notifier); err != nil {
		return nil, err
	}
	mails, err := renderNotices(ctx, tx, g.cfg.Notifier, pl.notices, pl.fix)
	if err != nil {
		return nil, err
	}
	if err := g.apply(ctx, tx, pl, preps, mails); err != nil {
		return nil, err
	}
	return results(preps), nil
}

// learn records a decided mail in the world: later mail of the batch that
// references it threads to its case.
func (w *world) learn(p *prepared) {
	if p.out.c == nil {
		return
	}
	w.known[p.msg.MessageID] = p.out.c.ID
	if p.msg.MessageIDAlias != "" {
		if _, ok := w.known[p.msg.MessageIDAlias]; !ok {
			w.known[p.msg.MessageIDAlias] = p.out.c.ID
		}
	}
	if p.tiRoot != "" {
		if _, ok := w.tiRoots[p.tiRoot]; !ok {
			w.tiRoots[p.tiRoot] = p.out.c.ID
		}
	}
}

func results(preps []*prepared) []Result {
	out := make([]Result, len(preps))
	for i, p := range preps {
		r := Result{MessageID: p.msg.MessageID, Class: string(p.class.Class), Duplicate: p.dup}
		if !p.dup {
			r.Decision, r.Rule, r.Reason = p.out.decision, p.out.rule, p.out.reason
			if p.out.c != nil {
				r.CaseID = p.out.c.ID
			}
		}
		out[i] = r
	}
	return out
}

// lockCursor serialises daemons reading the same mailbox: the second waits
// for the first's batch and then finds its mail stored.
func lockCursor(ctx context.Context, tx Queryer, in Inbound) error {
	if in.Mailbox == "" || in.replay || in.Local {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM mailbox_cursors WHERE mailbox = $1 FOR UPDATE`, in.Mailbox); err != nil {
		return fmt.Errorf("lock cursor %s: %w", in.Mailbox, mapErr(err))
	}
	return nil
}

// prepare parses one mail. Held mail costs no statement; a large one
// streams its raw bytes and attachments into tx as it is read.
func (g *Ingester) prepare(ctx context.Context, tx Queryer, in Inbound) (*prepared, error) {
	p := &prepared{in: in, now: g.cfg.Now(), blobs: map[*mail.Attachment]*storedBlob{}}
	held := heldSize(in.Body) <= heldLimit
	var body io.Reader
	var rawW *chunkWriter
	var buf bytes.Buffer
	if held {
		body = io.TeeReader(in.Body, &buf)
	} else {
		if err := tx.GetContext(ctx, &p.raw.id, `INSERT INTO raw_messages (stored_at, expires_at) VALUES ($1, $2) RETURNING id`,
			p.now, p.now.Add(g.cfg.RawRetention)); err != nil {
			return nil, fmt.Errorf("store raw: %w", mapErr(err))
		}
		rawW = newChunkWriter(ctx, tx, `INSERT INTO raw_chunks (raw_id, seq, data) VALUES ($1, $2, $3)`, p.raw.id)
		body = io.TeeReader(in.Body, rawW)
	}
	msg, err := mail.Parse(body, mail.ParseOptions{
		MaxAttachmentBytes: g.cfg.MaxAttachment,
		AttachmentSink: func(a *mail.Attachment, r io.Reader) error {
			if held {
				data, err := io.ReadAll(r)
				if err != nil {
					return err
				}
				sum := sha256.Sum256(data)
				p.blobs[a] = &storedBlob{data: data, sum: sum[:], size: int64(len(data))}
				return nil
			}
			id, err := storeBlob(ctx, tx, r)
			if err != nil {
				return err
			}
			p.blobs[a] = &storedBlob{id: id}
			return nil
		},
	})
	if err == nil {
		_, err = io.Copy(io.Discard, body) // the rest of the raw mail, if the parser stopped early
	}
	if err == nil && rawW != nil {
		err = rawW.Close()
	}
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	if held {
		sum := sha256.Sum256(buf.Bytes())
		p.raw.data, p.raw.sum, p.raw.size = buf.Bytes(), sum[:], int64(buf.Len())
	} else {
		p.raw.sum, p.raw.size = rawW.sum(), rawW.size
		if _, err := tx.ExecContext(ctx, `UPDATE raw_messages SET size = $2, sha256 = $3 WHERE id = $1`, p.raw.id, rawW.size, p.raw.sum); err != nil {
			return nil, fmt.Errorf("store raw: %w", mapErr(err))
		}
	}
	msg.Local = in.Local
	p.msg = msg
	ci := msg.ClassifyInput()
	ci.LoopID, ci.OwnMessageIDDomain, ci.OwnAddresses = g.cfg.LoopID, g.cfg.MessageIDDomain, g.cfg.Own
	ci.ReplyTo = []string{}
	for _, a := range msg.ReplyTo {
		ci.ReplyTo = append(ci.ReplyTo, a.Canonical())
	}
	p.class = threading.Classify(ci)
	p.replyText = ReplyText(msg)
	if v := first(msg.Header, "Thread-Index"); v != "" {
		if root, ok := threading.ThreadIndexRoot(v); ok {
			p.tiRoot = root
		}
	}
	return p, nil
}

// heldSize is how much of r is left when r says so, else "too much".
func heldSize(r io.Reader) int64 {
	switch b := r.(type) {
	case *bytes.Reader:
		return int64(b.Len())
	case *bytes.Buffer:
		return int64(b.Len())
	case *strings.Reader:
		return int64(b.Len())
	case sourceReader:
		return heldSize(b.r)
	}
	return heldLimit + 1
}

// keys lists what gather must look up for preps.
func (g *Ingester) keys(preps []*prepared) gatherKeys {
	k := gatherKeys{addrs: set{}, domains: set{}, refs: set{}, ids: set{}, tiRoots: set{}, caseIDs: map[int64]bool{}, froms: set{},
		outIDs: map[int64]bool{}, outMIDs: set{}}
	if n := g.cfg.Notifier; n != nil {
		k.addrs.add(strings.ToLower(n.cfg.AgentAddress))
		k.addrs.add(strings.ToLower(n.cfg.ManagerAddress))
	}
	for _, p := range preps {
		m := p.msg
		k.ids.add(m.MessageID)
		from := m.From.Canonical()
		k.addrs.add(from)
		k.froms.add(from)
		if from != "" {
			k.domains.add(domainOf(from))
		}
		for _, a := range append(append([]mail.Address{}, m.To...), m.Cc...) {
			if addr := a.Canonical(); addr != "" {
				k.addrs.add(addr)
				k.domains.add(domainOf(addr))
			}
		}
		if r := p.class.Requester; r != "" { // a web form's requester
			k.addrs.add(r)
			k.froms.add(r)
			k.domains.add(domainOf(r))
		}
		for _, id := range append(append([]string{}, m.InReplyTo...), m.References...) {
			k.refs.add(id)
		}
		k.tiRoots.add(p.tiRoot)
		if n, ok := threading.CaseTag(m.Subject); ok {
			k.caseIDs[n] = true
		}
		g.tokenKeys(p, &k)
		g.selfServiceKeys(p, &k)
		cmds, _ := lifecycle.ParseCommands(p.replyText)
		for _, c := range cmds {
			switch c.Name {
			case lifecycle.CmdAssign:
				k.addrs.add(strings.ToLower(strings.TrimSpace(c.Arg)))
			case lifecycle.CmdMerge:
				var n int64
				if _, err := fmt.Sscan(strings.TrimPrefix(strings.TrimSpace(c.Arg), "#"), &n); err == nil && n > 0 {
					k.caseIDs[n] = true
				}
			}
		}
		for _, b := range p.blobs {
			if b.id == 0 {
				k.blobSums = append(k.blobSums, b.sum)
			}
		}
	}
	return k
}

// tokenKeys adds the cases and outbox rows p's tokens name; only a valid
// signature counts.
func (g *Ingester) tokenKeys(p *prepared, k *gatherKeys) {
	m := p.msg
	if g.cfg.Tokens == nil {
		return
	}
	for _, a := range append(append(append(append([]mail.Address{}, m.To...), m.Cc...), m.DeliveredTo...), m.XOriginalTo...) {
		if tok, ok := threading.TokenFromAddress(a.Canonical(), g.cfg.Own); ok {
			if threading.IsBounceToken(tok) {
				if id, err := g.cfg.Tokens.VerifyBounce(tok, p.now); err == nil {
					k.outIDs[id] = true
				}
			} else if t, err := g.cfg.Tokens.Verify(tok); err == nil {
				k.caseIDs[t.CaseID] = true
			}
		}
	}
	for _, id := range append(append([]string{}, m.InReplyTo...), m.References...) {
		if tok, ok := threading.TokenFromMessageID(id, g.cfg.MessageIDDomain); ok {
			if t, err := g.cfg.Tokens.Verify(tok); err == nil {
				k.caseIDs[t.CaseID] = true
			}
		}
	}
	if p.class.Class == threading.ClassBounce {
		for _, id := range reportedIDs(p.class.Bounce) {
			k.outMIDs.add(id)
		}
	}
}

// reserveIDs takes the ids of everything the batch creates in one round
// trip and gives them out in decision order.
func reserveIDs(ctx context.Context, q Queryer, pl *plan, preps []*prepared, w *world, n *Notifier) error {
	msgs, raws, blobs := toStore(preps, w)
	var fresh []*prepared // a released mail keeps its row id
	for _, p := range msgs {
		if p.rowID == 0 {
			fresh = append(fresh, p)
		}
	}
	outbox := 0
	if n != nil && !n.cfg.PlainEnvelope {
		outbox = len(pl.notices)
	}
	var ids struct {
		Cases    pq.Int64Array `db:"cases"`
		Users    pq.Int64Array `db:"users"`
		Comments pq.Int64Array `db:"comments"`
		Messages pq.Int64Array `db:"messages"`
		Raws     pq.Int64Array `db:"raws"`
		Blobs    pq.Int64Array `db:"blobs"`
		Outbox   pq.Int64Array `db:"outbox"`
	}
	if err := q.GetContext(ctx, &ids, `SELECT
		array(SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, $1)) AS cases,
		array(SELECT nextval(pg_get_serial_sequence('users', 'id')) FROM generate_series(1, $2)) AS users,
		array(SELECT nextval(pg_get_serial_sequence('comments', 'id')) FROM generate_series(1, $3)) AS comments,
		array(SELECT nextval(pg_get_serial_sequence('messages', 'id')) FROM generate_series(1, $4)) AS messages,
		array(SELECT nextval(pg_get_serial_sequence('raw_messages', 'id')) FROM generate_series(1, $5)) AS raws,
		array(SELECT nextval(pg_get_serial_sequence('blobs', 'id')) FROM generate_series(1, $6)) AS blobs,
		array(SELECT nextval(pg_get_serial_sequence('outbox', 'id')) FROM generate_series(1, $7)) AS outbox`,
		len(pl.cases), len(pl.users), len(pl.comments), len(fresh), len(raws), len(blobs), outbox); err != nil {
		return fmt.Errorf("reserve ids: %w", mapErr(err))
	}
	var pairs []string
	for i, c := range pl.cases {
		pairs = append(pairs, strconv.FormatInt(c.ID, 10), strconv.FormatInt(ids.Cases[i], 10))
		c.ID = ids.Cases[i]
		c.state.ID = c.ID
	}
	// Texts decided before the numbers were known ("not allowed on case
	// #N") get the real ones.
	pl.fix = newNumberFix(pairs)
	for i, u := range pl.users {
		u.ID = ids.Users[i]
	}
	for i, c := range pl.comments {
		c.id = ids.Comments[i]
	}
	for i, p := range fresh {
		p.rowID = ids.Messages[i]
	}
	for i, r := range raws {
		r.id = ids.Raws[i]
	}
	for i, b := range blobs {
		b.id, b.fresh = ids.Blobs[i], true
	}
	shareBlobIDs(msgs, blobs)
	for i, nt := range pl.notices {
		if i < len(ids.Outbox) {
			nt.outboxID = ids.Outbox[i]
		}
	}
	return nil
}

// shareBlobIDs gives a second copy of held content in the batch the
// first's id.
func shareBlobIDs(msgs []*prepared, blobs []*storedBlob) {
	first := map[string]int64{}
	for _, b := range blobs {
		first[string(b.sum)] = b.id
	}
	for _, p := range msgs {
		for _, b := range p.blobs {
			if b.id == 0 {
				b.id = first[string(b.sum)]
			}
		}
	}
}

// toStore lists what a batch stores: its new mails, their held raw bytes
// and the held attachment content not stored before.
func toStore(preps []*prepared, w *world) (msgs []*prepared, raws, blobs []*storedBlob) {
	for _, p := range preps {
		if p.dup {
			continue
		}
		msgs = append(msgs, p)
		if p.raw.id == 0 {
			raws = append(raws, &p.raw)
		}
		for _, a := range p.msg.Attachments {
			if !p.out.linked {
				break // its attachments are not kept
			}
			if b := p.blobs[a]; b != nil && b.id == 0 {
				switch id := w.blobs[string(b.sum)]; {
				case id > 0:
					b.id = id
					continue
				case id < 0:
					continue // a second copy in the batch
				}
				blobs = append(blobs, b)
				w.blobs[string(b.sum)] = -1 // the first copy in the batch is stored; see apply
			}
		}
	}
	return msgs, raws, blobs
}

// numberFix puts the real case numbers into texts decided before the batch
// reserved them. Most texts hold none: a text without the digits every
// provisional number starts with is returned as it is, unscanned.
type numberFix struct {
	prefix string // common to every provisional number
	r      *strings.Replacer
}

// newNumberFix takes provisional, real pairs; none gives a nil fix.
func newNumberFix(pairs []string) *numberFix {
	if len(pairs) == 0 {
		return nil
	}
	prefix := pairs[0]
	for i := 2; i < len(pairs); i += 2 {
		n := 0
		for n < len(prefix) && n < len(pairs[i]) && prefix[n] == pairs[i][n] {
			n++
		}
		prefix = prefix[:n]
	}
	return &numberFix{prefix: prefix, r: strings.NewReplacer(pairs...)}
}

// Replace returns s with the real case numbers; a nil fix changes nothing.
func (f *numberFix) Replace(s string) string {
	if f == nil || !strings.Contains(s, f.prefix) {
		return s
	}
	return f.r.Replace(s)
}

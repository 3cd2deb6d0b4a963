package mail

import "github.com/helpdesk/helpdesk/threading"

// maxClassifyText is how much of the body threading.Classify sees; bounce
// texts put the failed recipient near the top.
const maxClassifyText = 64 << 10

// ClassifyInput returns the input for threading.Classify. The caller adds its
// own identity (LoopID, OwnMessageIDDomain, OwnAddresses).
func (m *Message) ClassifyInput() threading.ClassifyInput {
	text := m.Text
	if len(text) > maxClassifyText {
		text = text[:maxClassifyText]
	}
	return threading.ClassifyInput{
		Header:          m.Header,
		From:            m.From.Address,
		Subject:         m.Subject,
		MessageID:       m.MessageID,
		ReportType:      m.ReportType,
		DeliveryStatus:  m.DeliveryStatus,
		OriginalHeaders: m.OriginalHeaders,
		Text:            text,
	}
}

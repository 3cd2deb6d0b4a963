package reply

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// All patterns are RE2 (linear time). They are matched against one line, or
// a few joined lines, after normalise: trimmed, inner whitespace collapsed,
// no-break spaces turned into spaces, bold markers ("*From:*") removed.

// quoteHeader is a "someone wrote:" line in one language.
type quoteHeader struct {
	lang string
	re   *regexp.Regexp
	need evidence
}

// evidence a quote header must carry besides its words, so that a sentence
// such as "In 2020 my colleague wrote:" is not taken for a header.
type evidence uint8

const (
	needNothing     evidence = iota // the phrase is specific enough
	needDigitOrAddr                 // a date or an address
	needAddr                        // an address ("@" or "<...>")
)

// maxHeaderLen bounds what a quote header can be; longer lines are text.
const maxHeaderLen = 400

var quoteHeaders = []quoteHeader{
	// English: "On Fri, Nov 20, 2026 at 3:00 PM Jane <jane@example.com> wrote:",
	// "At 6/16/2016 08:32 PM, you wrote:", zoho's "---- On ... wrote ----",
	// "Jane <jane@example.com> wrote:".
	{"en", regexp.MustCompile(`(?i)^(on|at)\s.{4,}\s(wrote|writes|has written)\s?:?$`), needDigitOrAddr},
	{"en", regexp.MustCompile(`(?i)^-{2,}\s*on\s.{4,}\s(wrote|writes)\s*-{2,}$`), needDigitOrAddr},
	{"en", regexp.MustCompile(`(?i)^.+\s?(wrote|writes)\s?:$`), needAddr},
	// German: "Am 20.11.2026 um 15:00 schrieb Jan <jan@example.de>:",
	// "Jan <jan@example.de> schrieb am Fr., 20. Nov. 2026 um 15:00 Uhr:".
	{"de", regexp.MustCompile(`(?i)^am\s.{4,}\sschrieb\s.*:$`), needDigitOrAddr},
	{"de", regexp.MustCompile(`(?i)^.+\sschrieb\sam\s.{4,}:$`), needDigitOrAddr},
	{"de", regexp.MustCompile(`(?i)^.+\sschrieb\s?:$`), needAddr},
	// French: "Le ven. 20 nov. 2026 à 15:00, Jean <jean@example.fr> a écrit :".
	{"fr", regexp.MustCompile(`(?i)^le\s.{4,}\sa\s+écrit\s?:$`), needDigitOrAddr},
	{"fr", regexp.MustCompile(`(?i)^.+\sa\s+écrit\s?:$`), needAddr},
	// Spanish: "El vie, 20 nov 2026 a las 15:00, Ana (<ana@example.es>) escribió:".
	{"es", regexp.MustCompile(`(?i)^el\s.{4,}\sescribió\s?:$`), needDigitOrAddr},
	{"es", regexp.MustCompile(`(?i)^.+\sescribió\s?:$`), needAddr},
	// Portuguese: "Em sex., 20 de nov. de 2026 às 15:00, Ana <ana@example.pt> escreveu:".
	{"pt", regexp.MustCompile(`(?i)^em\s.{4,}\sescreveu\s?:$`), needDigitOrAddr},
	{"pt", regexp.MustCompile(`(?i)^.+\sescreveu\s?:$`), needAddr},
	// Italian: "Il giorno ven 20 nov 2026 alle ore 15:00 Anna <anna@example.it> ha scritto:".
	{"it", regexp.MustCompile(`(?i)^il\s.{4,}\sha\s+scritto\s?:$`), needDigitOrAddr},
	{"it", regexp.MustCompile(`(?i)^.+\sha\s+scritto\s?:$`), needAddr},
	// Dutch: "Op vr 20 nov. 2026 om 15:00 schreef Jan <jan@example.nl>:",
	// "Op 2 feb. 2015 om 05:28 heeft Jan <jan@example.nl> het volgende geschreven:".
	{"nl", regexp.MustCompile(`(?i)^op\s.{4,}\s(schreef|geschreven)(\s.*)?\s?:$`), needDigitOrAddr},
	{"nl", regexp.MustCompile(`(?i)^.+\s(schreef|geschreven)\s?:$`), needAddr},
	// Swedish, Norwegian, Danish: "Den 20 nov. 2026 kl. 15:00 skrev Anna <anna@example.se>:".
	{"sv", regexp.MustCompile(`(?i)^den\s.{4,}\sskrev\s.+:$`), needDigitOrAddr},
	{"sv", regexp.MustCompile(`(?i)^.+\sskrev\s.+:$`), needAddr},
	// Polish: "W dniu 20.11.2026 o 15:00, Jan <jan@example.pl> pisze:",
	// "Dnia 14 lip 2015 o godz. 00:25 Jan <jan@example.pl> napisał(a):".
	{"pl", regexp.MustCompile(`(?i)^(dnia|w dniu)\s.{4,}\s(napisał|napisała|napisał\(a\)|pisze)\s?:$`), needDigitOrAddr},
	{"pl", regexp.MustCompile(`(?i)^.+\s(napisał|napisała|napisał\(a\)|pisze)\s?:$`), needAddr},
	// Russian and Ukrainian: "20 нояб. 2026 г., в 15:00, Иван <ivan@example.ru> написал(а):",
	// "понедельник, 6 октября 2014 г. пользователь Иван написал:".
	{"ru", regexp.MustCompile(`(?i)^.+\sпользователь\s.+\s(написал|написала|написал\(а\))\s?:$`), needDigitOrAddr},
	{"ru", regexp.MustCompile(`(?i)^.+\s(написал|написала|написал\(а\)|пишет)\s?:$`), needAddr},
	{"ru", regexp.MustCompile(`(?i)^\d.{4,}\s(написал|написала|написал\(а\)|пишет)\s?:$`), needDigitOrAddr},
	{"uk", regexp.MustCompile(`(?i)^\d.{4,}\s(написав|написала|написав\(ла\)|пише)\s?:$`), needDigitOrAddr},
	{"uk", regexp.MustCompile(`(?i)^.+\s(написав|написала|написав\(ла\)|пише)\s?:$`), needAddr},
	// Chinese: "在 2026年11月20日，下午3:00，张三 <a@b.cn> 写道：",
	// Gmail: "张三 <a@b.cn> 于2026年11月20日周五 15:00写道：".
	{"zh", regexp.MustCompile(`^在\s?.+(写道|寫道)\s?[:：]?$`), needDigitOrAddr},
	{"zh", regexp.MustCompile(`^.+(写道|寫道)\s?[:：]?$`), needAddr},
	// Japanese: Apple Mail "2026/11/20 15:00、山田太郎 <a@b.jp>のメッセージ:",
	// "山田太郎さんは書きました:", Gmail "2026年11月20日(金) 15:00 山田太郎 <a@b.jp>:".
	{"ja", regexp.MustCompile(`^.+のメッセージ\s?[:：]$`), needDigitOrAddr},
	{"ja", regexp.MustCompile(`^.+(は|が)書きました\s?[:：]$`), needNothing},
	{"ja", regexp.MustCompile(`^\d{4}年\d{1,2}月\d{1,2}日\s?[(（][月火水木金土日][)）].+[:：]$`), needAddr},
	// Korean: Gmail "2026년 11월 20일 (금) 오후 3:00, 홍길동 <a@b.com>님이 작성:",
	// Apple Mail "2026. 11. 20. 오후 3:00, 홍길동 <a@b.com> 작성:",
	// Thunderbird "2026-11-20 오후 3:00에 홍길동 이(가) 쓴 글:".
	{"ko", regexp.MustCompile(`^.+님이\s?작성\s?[:：]?$`), needDigitOrAddr},
	{"ko", regexp.MustCompile(`^.+[>@].*\s?작성\s?[:：]$`), needDigitOrAddr},
	{"ko", regexp.MustCompile(`^.+(이\(가\)|님이|가|이)\s?쓴\s?글\s?[:：]$`), needDigitOrAddr},
}

// dateNameHeaders are old Gmail forms without a verb: "2016-03-03 17:21
// GMT+01:00 Some One" and "2013/7/20 Some One <some@one.com>".
var dateNameHeaders = []*regexp.Regexp{
	regexp.MustCompile(`^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s\d{1,2}:\d{2}\sGMT[+-]\d{1,2}:?\d{2}\s.+$`),
	regexp.MustCompile(`^\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(\s\d{1,2}:\d{2})?\s.+<[^<>\s]+@[^<>\s]+>\s?:?$`),
}

// genericHeader is "<date/time> ... <address>:", as written by Yandex,
// mail.ru, Gmail in some locales and many webmails. It is weaker evidence, so
// it only counts when quoted text follows it.
var genericHeader = regexp.MustCompile(`^.*(\d{1,2}:\d{2}|\d{4}).*[^\s<>()"':]+@[^\s<>()"':]+.{0,20}[:：]$`)

// separators introduce an embedded original or forwarded message:
// "-----Original Message-----", "---------- Forwarded message ---------",
// "-----원본 메시지-----", "------------------ 原始邮件 ------------------".
var separatorPhrases = map[string]string{
	"original message":           "en",
	"original":                   "en",
	"forwarded message":          "en",
	"reply message":              "en",
	"ursprüngliche nachricht":    "de",
	"original-nachricht":         "de",
	"originalnachricht":          "de",
	"weitergeleitete nachricht":  "de",
	"message d'origine":          "fr",
	"message d’origine":          "fr",
	"message original":           "fr",
	"message transféré":          "fr",
	"mensaje original":           "es",
	"mensaje reenviado":          "es",
	"mensagem original":          "pt",
	"mensagem encaminhada":       "pt",
	"messaggio originale":        "it",
	"messaggio inoltrato":        "it",
	"oorspronkelijk bericht":     "nl",
	"origineel bericht":          "nl",
	"doorgestuurd bericht":       "nl",
	"ursprungligt meddelande":    "sv",
	"vidarebefordrat meddelande": "sv",
	"opprinnelig melding":        "no",
	"videresendt melding":        "no",
	"oprindelig meddelelse":      "da",
	"videresendt meddelelse":     "da",
	"wiadomość oryginalna":       "pl",
	"oryginalna wiadomość":       "pl",
	"przekazana wiadomość":       "pl",
	"исходное сообщение":         "ru",
	"оригинальное сообщение":     "ru",
	"пересылаемое сообщение":     "ru",
	"пересланное сообщение":      "ru",
	"оригінальне повідомлення":   "uk",
	"вихідне повідомлення":       "uk",
	"переслане повідомлення":     "uk",
	"원본 메시지":                     "ko",
	"원본 메일":                      "ko",
	"원본메일":                       "ko",
	"전달된 메시지":                    "ko",
	"전달된 메일":                     "ko",
	"전달 메시지":                     "ko",
	"元のメッセージ":                    "ja",
	"オリジナルメッセージ":                 "ja",
	"転送メッセージ":                    "ja",
	"転送されたメッセージ":                 "ja",
	"原始邮件":                       "zh",
	"原始郵件":                       "zh",
	"原邮件":                        "zh",
	"回复的原邮件":                     "zh",
	"转发邮件":                       "zh",
	"轉寄郵件":                       "zh",
	"邮件原文":                       "zh",
	"alkuperäinen viesti":        "fi",
	"původní zpráva":             "cs",
	"eredeti üzenet":             "hu",
	"orijinal mesaj":             "tr",
	"iletilen mesaj":             "tr",
	"αρχικό μήνυμα":              "el",
	"original email":             "en",
	"원본 이메일":                     "ko",
	"메일 원문":                      "ko",
	"元のメール":                      "ja",
	"オリジナル メッセージ":                "ja",
	"forwarded conversation":     "en",
	"forwarded e-mail":           "en",
	"weitergeleitete e-mail":     "de",
	"message transmis":           "fr",
	"doorgestuurde e-mail":       "nl",
	"forwarded email":            "en",
}

// forwardIntros are separators without dashes (Apple Mail and others):
// "Begin forwarded message:".
var forwardIntros = map[string]string{
	"begin forwarded message":               "en",
	"anfang der weitergeleiteten nachricht": "de",
	"beginn der weitergeleiteten nachricht": "de",
	"début du message réexpédié":            "fr",
	"début du message transféré":            "fr",
	"inicio del mensaje reenviado":          "es",
	"comienzo del mensaje reenviado":        "es",
	"início da mensagem reencaminhada":      "pt",
	"início da mensagem encaminhada":        "pt",
	"inizio messaggio inoltrato":            "it",
	"begin doorgestuurd bericht":            "nl",
	"vidarebefordrat brev":                  "sv",
	"videresendt melding":                   "no",
	"начало переадресованного сообщения":    "ru",
	"전달된 메시지":                               "ko",
	"전달된 메일":                                "ko",
	"転送されたメッセージ":                            "ja",
	"转发的邮件":                                 "zh",
	"轉寄的郵件":                                 "zh",
}

// matchSeparator recognises an original/forwarded message separator line.
func matchSeparator(n string) (lang string, ok bool) {
	if n == "" || len(n) > 120 {
		return "", false
	}
	lower := strings.ToLower(n)
	if l, ok := forwardIntros[strings.TrimSpace(strings.TrimRight(lower, ":： "))]; ok && strings.ContainsAny(lower, ":：") {
		return l, true
	}
	// Dashed form: at least two dashes (or underscores, equal signs) on the
	// left, the phrase, and optionally the same on the right.
	trimmed := strings.TrimLeft(lower, "-_=~ ")
	lead := len(lower) - len(trimmed)
	if lead < 2 || strings.Count(lower[:lead], " ") == lead {
		return "", false
	}
	phrase := strings.TrimSpace(strings.TrimRight(trimmed, "-_=~ :："))
	l, ok := separatorPhrases[phrase]
	return l, ok
}

// Header field names of Outlook-style embedded headers ("From: / Sent: / To:
// / Subject:") in many languages.
type fieldKind uint8

const (
	fieldNone fieldKind = iota
	fieldFrom
	fieldDate
	fieldTo
	fieldCc
	fieldSubject
	fieldReplyTo
	fieldOther // Importance, Priority, Attachments...
)

type fieldName struct {
	kind fieldKind
	lang string
}

var fieldNames = map[string]fieldName{
	"from": {fieldFrom, "en"}, "sent": {fieldDate, "en"}, "date": {fieldDate, "en"},
	"to": {fieldTo, "en"}, "cc": {fieldCc, "en"}, "bcc": {fieldCc, "en"}, "subject": {fieldSubject, "en"},
	"reply-to": {fieldReplyTo, "en"}, "sent by": {fieldOther, "en"}, "importance": {fieldOther, "en"},
	"priority": {fieldOther, "en"}, "attachments": {fieldOther, "en"},
	// German
	"von": {fieldFrom, "de"}, "gesendet": {fieldDate, "de"}, "datum": {fieldDate, "de"},
	"an": {fieldTo, "de"}, "betreff": {fieldSubject, "de"}, "kopie": {fieldCc, "de"},
	"antwort an": {fieldReplyTo, "de"}, "wichtigkeit": {fieldOther, "de"},
	// French
	"de": {fieldFrom, "fr"}, "envoyé": {fieldDate, "fr"}, "à": {fieldTo, "fr"},
	"objet": {fieldSubject, "fr"}, "répondre à": {fieldReplyTo, "fr"}, "envoyé le": {fieldDate, "fr"},
	"destinataire": {fieldTo, "fr"}, "expéditeur": {fieldFrom, "fr"},
	// Spanish / Portuguese
	"enviado": {fieldDate, "es"}, "enviada": {fieldDate, "pt"}, "fecha": {fieldDate, "es"},
	"para": {fieldTo, "es"}, "asunto": {fieldSubject, "es"}, "assunto": {fieldSubject, "pt"},
	"enviado el": {fieldDate, "es"}, "enviado em": {fieldDate, "pt"}, "responder a": {fieldReplyTo, "es"},
	// Italian
	"da": {fieldFrom, "it"}, "inviato": {fieldDate, "it"}, "inviata": {fieldDate, "it"},
	"data": {fieldDate, "it"}, "a": {fieldTo, "it"}, "oggetto": {fieldSubject, "it"},
	"risposta": {fieldReplyTo, "it"}, "rispondi a": {fieldReplyTo, "it"},
	// Dutch
	"van": {fieldFrom, "nl"}, "verzonden": {fieldDate, "nl"}, "aan": {fieldTo, "nl"},
	"onderwerp": {fieldSubject, "nl"},
	// Swedish, Norwegian, Danish
	"från": {fieldFrom, "sv"}, "skickat": {fieldDate, "sv"}, "till": {fieldTo, "sv"},
	"ämne": {fieldSubject, "sv"}, "fra": {fieldFrom, "no"}, "sendt": {fieldDate, "no"},
	"dato": {fieldDate, "no"}, "til": {fieldTo, "no"}, "emne": {fieldSubject, "no"},
	// Polish
	"od": {fieldFrom, "pl"}, "wysłano": {fieldDate, "pl"}, "wysłane": {fieldDate, "pl"},
	"do": {fieldTo, "pl"}, "temat": {fieldSubject, "pl"}, "dw": {fieldCc, "pl"},
	// Russian / Ukrainian
	"от": {fieldFrom, "ru"}, "отправлено": {fieldDate, "ru"}, "дата": {fieldDate, "ru"},
	"кому": {fieldTo, "ru"}, "копия": {fieldCc, "ru"}, "тема": {fieldSubject, "ru"},
	"від": {fieldFrom, "uk"}, "надіслано": {fieldDate, "uk"}, "копія": {fieldCc, "uk"},
	// Finnish, Czech, Turkish
	"lähettäjä": {fieldFrom, "fi"}, "lähetetty": {fieldDate, "fi"}, "vastaanottaja": {fieldTo, "fi"},
	"aihe": {fieldSubject, "fi"}, "odesílatel": {fieldFrom, "cs"}, "odesláno": {fieldDate, "cs"},
	"komu": {fieldTo, "cs"}, "předmět": {fieldSubject, "cs"}, "kimden": {fieldFrom, "tr"},
	"gönderildi": {fieldDate, "tr"}, "kime": {fieldTo, "tr"}, "konu": {fieldSubject, "tr"},
	// Chinese (simplified, traditional)
	"发件人": {fieldFrom, "zh"}, "發件人": {fieldFrom, "zh"}, "寄件者": {fieldFrom, "zh"}, "寄件人": {fieldFrom, "zh"},
	"发送时间": {fieldDate, "zh"}, "發送時間": {fieldDate, "zh"}, "寄件日期": {fieldDate, "zh"},
	"日期": {fieldDate, "zh"}, "时间": {fieldDate, "zh"}, "收件人": {fieldTo, "zh"}, "收件者": {fieldTo, "zh"},
	"抄送": {fieldCc, "zh"}, "副本": {fieldCc, "zh"}, "抄送人": {fieldCc, "zh"},
	"主题": {fieldSubject, "zh"}, "主題": {fieldSubject, "zh"}, "主旨": {fieldSubject, "zh"},
	// Japanese
	"差出人": {fieldFrom, "ja"}, "送信者": {fieldFrom, "ja"}, "送信日時": {fieldDate, "ja"},
	"送信日": {fieldDate, "ja"}, "日付": {fieldDate, "ja"}, "日時": {fieldDate, "ja"},
	"宛先": {fieldTo, "ja"}, "件名": {fieldSubject, "ja"}, "重要度": {fieldOther, "ja"},
	// Korean
	"보낸 사람": {fieldFrom, "ko"}, "보낸사람": {fieldFrom, "ko"}, "보낸 날짜": {fieldDate, "ko"},
	"보낸날짜": {fieldDate, "ko"}, "날짜": {fieldDate, "ko"}, "받는 사람": {fieldTo, "ko"},
	"받는사람": {fieldTo, "ko"}, "참조": {fieldCc, "ko"}, "숨은 참조": {fieldCc, "ko"},
	"제목": {fieldSubject, "ko"}, "중요도": {fieldOther, "ko"},
	"발신": {fieldFrom, "ko"}, "발신자": {fieldFrom, "ko"}, "수신": {fieldTo, "ko"}, "수신자": {fieldTo, "ko"},
	"보낸 시간": {fieldDate, "ko"}, "회신 대상": {fieldReplyTo, "ko"},
}

// matchField recognises "Name: value" header field lines. The name is
// looked up without surrounding bold markers.
func matchField(n string) (fieldName, bool) {
	i := strings.IndexAny(n, ":：")
	if i <= 0 || i > 40 {
		return fieldName{}, false
	}
	name := strings.ToLower(strings.Trim(n[:i], "*_ "))
	f, ok := fieldNames[name]
	return f, ok
}

// Mobile and app footers: "Sent from my iPhone", "iPhone에서 보냄",
// "iPhoneから送信", "Envoyé de mon iPhone", ...
var footerExact = []*regexp.Regexp{
	regexp.MustCompile(`^(get|download) outlook for .{1,30}$`),
	regexp.MustCompile(`^envoyé (de|depuis|avec|à partir de) (mon|ma|un|une)? ?.{1,40}$`),
	regexp.MustCompile(`^(von|gesendet von|gesendet mit) (meinem|meiner|einem) .{1,40}( gesendet)?$`),
	regexp.MustCompile(`^diese nachricht wurde von .{1,60} gesendet$`),
	regexp.MustCompile(`^(enviado|enviada) (desde|do|da|de|con|com|pelo|pela|a partir do) (mi|meu|minha|o|a|el|un|uma)? ?.{1,40}$`),
	regexp.MustCompile(`^inviato (da|dal|dal mio|con|tramite) .{1,40}$`),
	regexp.MustCompile(`^(verzonden|verstuurd) (met|vanaf|van|via) .{1,40}$`),
	regexp.MustCompile(`^(skickat|skickad) (från|med) .{1,40}$`),
	regexp.MustCompile(`^sendt (fra|med) .{1,40}$`),
	regexp.MustCompile(`^(wysłane|wysłano) (z|ze|przy użyciu) .{1,40}$`),
	regexp.MustCompile(`^(отправлено|отправлено с|послано с) .{1,40}$`),
	regexp.MustCompile(`^(надіслано|відправлено) (з|із) .{1,40}$`),
	regexp.MustCompile(`^lähetetty .{1,40}$`),
	// CJK
	regexp.MustCompile(`^.{1,40}에서 (보냄|보냈습니다|발송)$`),
	regexp.MustCompile(`^.{1,40}から送信(しました)?$`),
	regexp.MustCompile(`^(发自|發自|来自|來自)(我的)? ?.{1,40}$`),
	regexp.MustCompile(`^(從|从)我的 ?.{1,30}(傳送|发送|寄出)$`),
	regexp.MustCompile(`^(sent|envoyé|enviado) (from|by|with|via) .{1,40} (on|for) (android|ios|iphone|ipad|windows)( \d+)?$`),
}

// englishFooter captures the rest of "Sent from my ...", "Sent with ...".
var englishFooter = regexp.MustCompile(`^(sent|sent from|sent with|sent via|sent by|sent using|sent on|from my|sent from my|sent using my|typed on|written on)\s(.{1,80})$`)

// deviceWords make a "Sent from ..." line a footer even when followed by
// more words: "Sent from my cell, please excuse any typos."
var deviceWords = []string{
	"iphone", "ipad", "ipod", "android", "mobile", "phone", "cell", "blackberry",
	"galaxy", "samsung", "htc", "nokia", "huawei", "xiaomi", "pixel", "motorola",
	"device", "tablet", "smartphone", "handheld", "windows", "outlook", "mail", "gmail",
	"yahoo", "aol", "airmail", "spark", "mailbox", "verizon", "sony", "lg ", "oneplus",
	"kindle", "watch", "proton", "superhuman", "newton", "edison", "bluemail", "k-9", "fairemail",
}

var (
	urlInAngles  = regexp.MustCompile(`<(https?|mailto):[^>]*>`)
	markdownLink = regexp.MustCompile(`\[([^\]]{0,80})\]\([^)]{0,300}\)`)
	bareURL      = regexp.MustCompile(`(https?://|www\.)\S*`)
)

// footerStrength says how surely a line is a mobile/app footer.
type footerStrength uint8

const (
	footerNone   footerStrength = iota
	footerWeak                  // "Sent from the office" (only a footer at the end)
	footerStrong                // "Sent from my iPhone"
)

// footerWords are the words one of which every footer contains; lines
// without any skip the patterns.
var footerWords = []string{
	"sent", "from my", "outlook", "typed on", "written on", "envoy", "von meinem",
	"gesendet", "nachricht", "enviad", "inviato", "verzonden", "verstuurd", "skickat",
	"sendt", "wysłan", "отправлено", "послано", "надіслано", "відправлено", "lähetetty",
	"에서", "から送信", "发自", "發自", "来自", "來自", "我的",
}

func matchFooter(line string) footerStrength {
	n := normalise(line)
	if n == "" || len(n) > 160 {
		return footerNone
	}
	lower := strings.ToLower(n)
	candidate := false
	for _, w := range footerWords {
		if strings.Contains(lower, w) {
			candidate = true
			break
		}
	}
	if !candidate {
		return footerNone
	}
	n = markdownLink.ReplaceAllString(n, "$1")
	n = urlInAngles.ReplaceAllString(n, "")
	n = bareURL.ReplaceAllString(n, "")
	n = strings.ToLower(strings.TrimSpace(n))
	n = strings.Trim(n, "<>()[]{}«»\"'*_~ ")
	n = strings.TrimRight(n, ".!")
	n = strings.Join(strings.Fields(n), " ")
	if n == "" {
		return footerNone
	}
	for _, re := range footerExact {
		if re.MatchString(n) {
			return footerStrong
		}
	}
	m := englishFooter.FindStringSubmatch(n)
	if m == nil {
		return footerNone
	}
	rest := m[2]
	clause := rest
	if i := strings.IndexAny(rest, ",;!?"); i >= 0 {
		clause = rest[:i]
	}
	if i := strings.Index(clause, ". "); i >= 0 {
		clause = clause[:i]
	}
	for _, w := range deviceWords {
		if strings.Contains(clause+" ", w) {
			return footerStrong
		}
	}
	if !strings.ContainsAny(rest, ",;!?.") && len(strings.Fields(rest)) <= 6 {
		return footerWeak
	}
	return footerNone
}

// normalise prepares a line for pattern matching: trimmed, no-break and
// other Unicode spaces turned into plain spaces and collapsed, a leading
// and trailing "*" (plain-text bold) removed.
func normalise(s string) string {
	if len(s) > 4*maxHeaderLen {
		s = s[:4*maxHeaderLen]
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) || r == '\u200b' || r == '\u200e' || r == '\u200f' || r == '\ufeff' {
			space = b.Len() > 0
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if strings.HasPrefix(out, "*") && strings.HasSuffix(out, "*") && len(out) > 2 {
		out = strings.TrimSpace(out[1 : len(out)-1])
	}
	return out
}

// evidenceIn reports whether s holds a digit and an address-like part.
func evidenceIn(s string) (digit, addr bool) {
	for _, r := range s {
		switch {
		case r == '@' || r == '＠' || r == '<':
			addr = true
		case unicode.IsDigit(r):
			digit = true
		}
	}
	return digit, addr
}

// headerMatch is a recognised quote header. strong is false for the
// generic date+address form, which only counts when quoted text follows.
type headerMatch struct {
	lang   string
	strong bool
}

// matchQuoteHeader recognises a quote header in a normalised line.
func matchQuoteHeader(n string) (headerMatch, bool) {
	if n == "" || len(n) > maxHeaderLen || !utf8.ValidString(n) || !mayBeHeader(n) {
		return headerMatch{}, false
	}
	digit, addr := evidenceIn(n)
	for _, h := range quoteHeaders {
		switch {
		case h.need == needDigitOrAddr && !digit && !addr, h.need == needAddr && !addr:
			continue
		}
		if h.re.MatchString(n) {
			return headerMatch{lang: h.lang, strong: true}, true
		}
	}
	for _, re := range dateNameHeaders {
		if re.MatchString(n) {
			return headerMatch{strong: true}, true
		}
	}
	if digit && addr && genericHeader.MatchString(n) {
		return headerMatch{lang: genericLang(n)}, true
	}
	return headerMatch{}, false
}

// mayBeHeader is a cheap filter before the patterns: every quote header
// ends with a colon, "wrote", dashes or a Chinese/Korean verb, or starts
// with a date.
func mayBeHeader(n string) bool {
	if strings.HasSuffix(n, ":") || strings.HasSuffix(n, "：") || strings.HasSuffix(n, "-") {
		return true
	}
	lower := strings.ToLower(n)
	for _, suffix := range []string{"wrote", "writes", "written", "写道", "寫道", "작성"} {
		if strings.HasSuffix(lower, suffix) {
			return true
		}
	}
	return n[0] >= '0' && n[0] <= '9'
}

// headerOpeners start quote headers in many languages: "On ...", "Am ...",
// "Le ...", "El ...", "Em ...", "Il ...", "Op ...", "Den ...", "Dnia ...".
var headerOpeners = regexp.MustCompile(`(?i)^(on|at|am|le|el|em|il|op|den|dnia|w dniu|在|-{2,}\s?on)\s`)

// dateStart matches a line that starts with a date: "2016-10-24",
// "26.06.2014", "2026년 11월", "2026年11月", "20 окт. 2016", "Thu, 26 Jun 2014",
// "понедельник, 6 октября 2014".
var dateStart = regexp.MustCompile(`^(\d{4}[-/.年년]\s?\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}\.?\s\pL{3,}\.?,?\s\d{4}|\pL{2,}\.?,\s\d{1,2}\.?\s\pL{3,}\.?,?\s\d{4})`)

// headerStart reports whether a normalised string starts the way quote
// headers do.
func headerStart(n string) bool {
	return headerOpeners.MatchString(n) || dateStart.MatchString(n)
}

// genericLang guesses the language of a date+address header from its
// script: Gmail writes Japanese and Korean dates without a verb.
func genericLang(n string) string {
	switch {
	case strings.Contains(n, "년") && strings.Contains(n, "월"):
		return "ko"
	case strings.Contains(n, "年") && strings.Contains(n, "月"):
		return "ja"
	}
	for _, r := range n {
		if unicode.Is(unicode.Cyrillic, r) {
			return "ru"
		}
	}
	return ""
}

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
	// words: the lower-cased line must hold one of them before re is tried.
	words []string
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
	{"en", regexp.MustCompile(`(?i)^(on|at)\s.{4,}\s(wrote|writes|has written)\s?:?$`), needDigitOrAddr, []string{"wrote", "writ"}},
	{"en", regexp.MustCompile(`(?i)^-{2,}\s*on\s.{4,}\s(wrote|writes)\s*-{2,}$`), needDigitOrAddr, []string{"wrote", "writ"}},
	{"en", regexp.MustCompile(`(?i)^.+\s?(wrote|writes)\s?:$`), needAddr, []string{"wrote", "writ"}},
	// German: "Am 20.11.2026 um 15:00 schrieb Jan <jan@example.de>:",
	// "Jan <jan@example.de> schrieb am Fr., 20. Nov. 2026 um 15:00 Uhr:".
	{"de", regexp.MustCompile(`(?i)^am\s.{4,}\sschrieb\s.*:$`), needDigitOrAddr, []string{"schrieb"}},
	{"de", regexp.MustCompile(`(?i)^.+\sschrieb\sam\s.{4,}:$`), needDigitOrAddr, []string{"schrieb"}},
	{"de", regexp.MustCompile(`(?i)^.+\sschrieb\s?:$`), needAddr, []string{"schrieb"}},
	// French: "Le ven. 20 nov. 2026 à 15:00, Jean <jean@example.fr> a écrit :".
	{"fr", regexp.MustCompile(`(?i)^le\s.{4,}\sa\s+écrit\s?:$`), needDigitOrAddr, []string{"écrit"}},
	{"fr", regexp.MustCompile(`(?i)^.+\sa\s+écrit\s?:$`), needAddr, []string{"écrit"}},
	// Spanish: "El vie, 20 nov 2026 a las 15:00, Ana (<ana@example.es>) escribió:".
	{"es", regexp.MustCompile(`(?i)^el\s.{4,}\sescribió\s?:$`), needDigitOrAddr, []string{"escribió"}},
	{"es", regexp.MustCompile(`(?i)^.+\sescribió\s?:$`), needAddr, []string{"escribió"}},
	// Portuguese: "Em sex., 20 de nov. de 2026 às 15:00, Ana <ana@example.pt> escreveu:".
	{"pt", regexp.MustCompile(`(?i)^em\s.{4,}\sescreveu\s?:$`), needDigitOrAddr, []string{"escreveu"}},
	{"pt", regexp.MustCompile(`(?i)^.+\sescreveu\s?:$`), needAddr, []string{"escreveu"}},
	// Italian: "Il giorno ven 20 nov 2026 alle ore 15:00 Anna <anna@example.it> ha scritto:".
	{"it", regexp.MustCompile(`(?i)^il\s.{4,}\sha\s+scritto\s?:$`), needDigitOrAddr, []string{"scritto"}},
	{"it", regexp.MustCompile(`(?i)^.+\sha\s+scritto\s?:$`), needAddr, []string{"scritto"}},
	// Dutch: "Op vr 20 nov. 2026 om 15:00 schreef Jan <jan@example.nl>:",
	// "Op 2 feb. 2015 om 05:28 heeft Jan <jan@example.nl> het volgende geschreven:".
	{"nl", regexp.MustCompile(`(?i)^op\s.{4,}\s(schreef|geschreven)(\s.*)?\s?:$`), needDigitOrAddr, []string{"schre"}},
	{"nl", regexp.MustCompile(`(?i)^.+\s(schreef|geschreven)\s?:$`), needAddr, []string{"schre"}},
	// Swedish, Norwegian, Danish: "Den 20 nov. 2026 kl. 15:00 skrev Anna <anna@example.se>:".
	{"sv", regexp.MustCompile(`(?i)^den\s.{4,}\sskrev\s.+:$`), needDigitOrAddr, []string{"skrev"}},
	{"sv", regexp.MustCompile(`(?i)^.+\sskrev\s.+:$`), needAddr, []string{"skrev"}},
	// Polish: "W dniu 20.11.2026 o 15:00, Jan <jan@example.pl> pisze:",
	// "Dnia 14 lip 2015 o godz. 00:25 Jan <jan@example.pl> napisał(a):".
	{"pl", regexp.MustCompile(`(?i)^(dnia|w dniu)\s.{4,}\s(napisał|napisała|napisał\(a\)|pisze)\s?:$`), needDigitOrAddr, []string{"napisa", "pisze"}},
	{"pl", regexp.MustCompile(`(?i)^.+\s(napisał|napisała|napisał\(a\)|pisze)\s?:$`), needAddr, []string{"napisa", "pisze"}},
	// Apple Mail: "Wiadomość napisana przez Jan <jan@example.pl> w dniu 20.11.2026, o godz. 15:00:".
	{"pl", regexp.MustCompile(`(?i)^wiadomość napisana przez\s.+:$`), needDigitOrAddr, []string{"wiadomość napisana"}},
	// Russian and Ukrainian: "20 нояб. 2026 г., в 15:00, Иван <ivan@example.ru> написал(а):",
	// "понедельник, 6 октября 2014 г. пользователь Иван написал:".
	{"ru", regexp.MustCompile(`(?i)^.+\sпользователь\s.+\s(написал|написала|написал\(а\))\s?:$`), needDigitOrAddr, []string{"пиш", "написа"}},
	{"ru", regexp.MustCompile(`(?i)^.+\s(написал|написала|написал\(а\)|пишет)\s?:$`), needAddr, []string{"пиш", "написа"}},
	{"ru", regexp.MustCompile(`(?i)^\d.{4,}\s(написал|написала|написал\(а\)|пишет)\s?:$`), needDigitOrAddr, []string{"пиш", "написа"}},
	{"uk", regexp.MustCompile(`(?i)^\d.{4,}\s(написав|написала|написав\(ла\)|пише)\s?:$`), needDigitOrAddr, []string{"пиш", "написа"}},
	{"uk", regexp.MustCompile(`(?i)^.+\s(написав|написала|написав\(ла\)|пише)\s?:$`), needAddr, []string{"пиш", "написа"}},
	// Chinese: "在 2026年11月20日，下午3:00，张三 <a@b.cn> 写道：",
	// Gmail: "张三 <a@b.cn> 于2026年11月20日周五 15:00写道：".
	{"zh", regexp.MustCompile(`^在\s?.+(写道|寫道)\s?[:：]?$`), needDigitOrAddr, []string{"写道", "寫道"}},
	{"zh", regexp.MustCompile(`^.+(写道|寫道)\s?[:：]?$`), needAddr, []string{"写道", "寫道"}},
	// Japanese: Apple Mail "2026/11/20 15:00、山田太郎 <a@b.jp>のメッセージ:",
	// "山田太郎さんは書きました:", Gmail "2026年11月20日(金) 15:00 山田太郎 <a@b.jp>:".
	{"ja", regexp.MustCompile(`^.+のメッセージ\s?[:：]$`), needDigitOrAddr, []string{"のメッセージ"}},
	{"ja", regexp.MustCompile(`^.+(は|が)書きました\s?[:：]$`), needNothing, []string{"書きました"}},
	{"ja", regexp.MustCompile(`^\d{4}年\d{1,2}月\d{1,2}日\s?[(（][月火水木金土日][)）].+[:：]$`), needAddr, []string{"年"}},
	// Korean: Gmail "2026년 11월 20일 (금) 오후 3:00, 홍길동 <a@b.com>님이 작성:",
	// Apple Mail "2026. 11. 20. 오후 3:00, 홍길동 <a@b.com> 작성:",
	// Thunderbird "2026-11-20 오후 3:00에 홍길동 이(가) 쓴 글:".
	{"ko", regexp.MustCompile(`^.+님이\s?작성\s?[:：]?$`), needDigitOrAddr, []string{"작성", "쓴"}},
	{"ko", regexp.MustCompile(`^.+[>@].*\s?작성\s?[:：]$`), needDigitOrAddr, []string{"작성", "쓴"}},
	{"ko", regexp.MustCompile(`^.+(이\(가\)|님이|가|이)\s?쓴\s?글\s?[:：]$`), needDigitOrAddr, []string{"작성", "쓴"}},
}

// dateNameHeaders are old Gmail forms without a verb: "2016-03-03 17:21
// GMT+01:00 Some One" and "2013/7/20 Some One <some@one.com>".
var dateNameHeaders = []*regexp.Regexp{
	// Mutt's attribution: "* Jane <jane@example.com> [2021-11-17 11:00 +0000]:".
	regexp.MustCompile(`^\*\s.{2,120}\s\[\d{4}-\d{2}-\d{2}[^\]]{0,30}\]:$`),
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
	"original mail":              "en",
	"ursprüngliche mail":         "de",
	"mail original":              "fr",
	"oprindelig besked":          "da",
	"originalmeddelande":         "sv",
	"转发邮件信息":                     "zh",
	"mensagem reencaminhada":     "pt",
	"pesan asli":                 "id",
	"mesaj original":             "ro",
	"özgün i̇leti":               "tr",
	"özgün ileti":                "tr",
	"eredeti levél":              "hu",
	"оригінальний лист":          "uk",
	"原始信件":                       "zh",
	"הודעה מקורית":               "he",
	"الرسالة الأصلية":            "ar",
	"ข้อความต้นฉบับ":             "th",
	"původní e-mail":             "cs",
	"opprinnelig e-post":         "no",
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
	"以下为转发的邮件":                              "zh",
	"start på videresendt besked":           "da",
	"start på videresendt melding":          "no",
	"välitetty viesti alkaa":                "fi",
	"začátek přeposílané zprávy":            "cs",
	"początek przekazywanej wiadomości":     "pl",
	"továbbított levél kezdete":             "hu",
	"i̇letilen mesajın başlangıcı":          "tr",
	"iletilen mesajın başlangıcı":           "tr",
	"початок пересланого листа":             "uk",
	"αρχή προωθημένου μηνύματος":            "el",
	"începutul mesajului redirecționat":     "ro",
	"awal pesan yang diteruskan":            "id",
	"bắt đầu tin nhắn được chuyển tiếp":     "vi",
	"תחילת הודעה שהועברה":                   "he",
	"بداية الرسالة المُعاد توجيهها":         "ar",
	"เริ่มข้อความที่ส่งต่อ":                 "th",
	"以下是转发的邮件":                              "zh",
	"転送メッセージ":                               "ja",
	"전달 메시지":                                "ko",
}

// forwardPhrases are the separator phrases that introduce a forwarded
// message rather than replied-to history.
var forwardPhrases = map[string]bool{
	"forwarded message": true, "forwarded conversation": true, "forwarded e-mail": true,
	"forwarded email": true, "weitergeleitete nachricht": true, "weitergeleitete e-mail": true,
	"message transféré": true, "message transmis": true, "mensaje reenviado": true,
	"mensagem encaminhada": true, "mensagem reencaminhada": true, "messaggio inoltrato": true,
	"doorgestuurd bericht": true, "doorgestuurde e-mail": true, "vidarebefordrat meddelande": true,
	"videresendt melding": true, "videresendt meddelelse": true, "przekazana wiadomość": true,
	"wiadomość przekazana dalej": true, "пересылаемое сообщение": true, "пересланное сообщение": true,
	"переслане повідомлення": true, "전달된 메시지": true, "전달된 메일": true, "전달 메시지": true,
	"転送メッセージ": true, "転送されたメッセージ": true, "转发邮件": true, "轉寄郵件": true,
	"转发邮件信息": true, "iletilen mesaj": true, "välitetty viesti": true, "přeposlaná zpráva": true,
	"továbbított üzenet": true, "προωθημένο μήνυμα": true, "mesaj redirecționat": true,
	"tin nhắn được chuyển tiếp": true, "pesan yang diteruskan": true, "הודעה שהועברה": true,
	"رسالة مُعاد توجيهها": true, "ข้อความที่ส่งต่อ": true, "الرسالة المُعاد توجيهها": true,
	"الرسالة المعاد توجيهها": true, "yönlendirilmiş ileti": true, "пересланий лист": true,
	"továbbított levél": true, "mesaj redirecţionat": true, "mensaje reenviado:": true,
	"viesti välitetty": true, "doorgestuurd e-mailbericht": true,
}

// messageDu is the French webmail separator "==== Message du 17/11/21 11:00 ====".
var messageDu = regexp.MustCompile(`^message du (\pL+\.? )?\d{1,2}[/. ]`)

// matchSeparator recognises an original/forwarded message separator line;
// forward is true for a forwarded message.
func matchSeparator(n string) (lang string, forward, ok bool) {
	return matchSeparatorN(n, strings.ToLower(n))
}

// matchSeparatorN is matchSeparator on a normalised line and its lower case.
func matchSeparatorN(n, lower string) (lang string, forward, ok bool) {
	if n == "" || len(n) > 120 {
		return "", false, false
	}
	if l, ok := forwardIntros[strings.TrimSpace(strings.TrimRight(lower, ":： "))]; ok && strings.ContainsAny(lower, ":：") {
		return l, true, true
	}
	// Dashed form: at least two dashes (or underscores, equal signs) on the
	// left, the phrase, and optionally the same on the right.
	if strings.HasPrefix(lower, "---") && notesWrote.MatchString(n) {
		return verbLang[strings.ToLower(notesWrote.FindStringSubmatch(n)[1])], false, true
	}
	trimmed := strings.TrimLeft(lower, "-_=~ ")
	lead := len(lower) - len(trimmed)
	if lead < 2 || strings.Count(lower[:lead], " ") == lead {
		return "", false, false
	}
	phrase := strings.TrimSpace(strings.TrimRight(trimmed, "-_=~ :："))
	if strings.HasPrefix(phrase, "message du ") && messageDu.MatchString(phrase) {
		return "fr", false, true
	}
	l, ok := separatorPhrases[phrase]
	if !ok && forwardPhrases[phrase] {
		l, ok = "", true
	}
	return l, forwardPhrases[phrase], ok
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
	// Romanian, Hungarian, Indonesian, Vietnamese
	"de la": {fieldFrom, "ro"}, "trimis": {fieldDate, "ro"}, "către": {fieldTo, "ro"}, "catre": {fieldTo, "ro"},
	"subiect": {fieldSubject, "ro"}, "feladó": {fieldFrom, "hu"}, "elküldve": {fieldDate, "hu"},
	"küldve": {fieldDate, "hu"}, "címzett": {fieldTo, "hu"}, "másolatot kap": {fieldCc, "hu"},
	"tárgy": {fieldSubject, "hu"}, "dátum": {fieldDate, "hu"}, "dari": {fieldFrom, "id"},
	"dikirim": {fieldDate, "id"}, "kepada": {fieldTo, "id"}, "subjek": {fieldSubject, "id"},
	"perihal": {fieldSubject, "id"}, "tanggal": {fieldDate, "id"}, "từ": {fieldFrom, "vi"},
	"đã gửi": {fieldDate, "vi"}, "gửi": {fieldDate, "vi"}, "đến": {fieldTo, "vi"}, "tới": {fieldTo, "vi"},
	"chủ đề": {fieldSubject, "vi"}, "ngày": {fieldDate, "vi"},
	// Greek, Hebrew, Arabic, Thai
	"από": {fieldFrom, "el"}, "στάλθηκε": {fieldDate, "el"}, "ημερομηνία": {fieldDate, "el"},
	"προς": {fieldTo, "el"}, "κοιν": {fieldCc, "el"}, "κοιν.": {fieldCc, "el"}, "θέμα": {fieldSubject, "el"},
	"מאת": {fieldFrom, "he"}, "נשלח": {fieldDate, "he"}, "תאריך": {fieldDate, "he"}, "אל": {fieldTo, "he"},
	"עותק": {fieldCc, "he"}, "נושא": {fieldSubject, "he"}, "من": {fieldFrom, "ar"},
	"تم الإرسال": {fieldDate, "ar"}, "أرسل": {fieldDate, "ar"}, "التاريخ": {fieldDate, "ar"},
	"إلى": {fieldTo, "ar"}, "نسخة": {fieldCc, "ar"}, "الموضوع": {fieldSubject, "ar"},
	"จาก": {fieldFrom, "th"}, "ส่ง": {fieldDate, "th"}, "วันที่": {fieldDate, "th"}, "ถึง": {fieldTo, "th"},
	"สำเนาถึง": {fieldCc, "th"}, "เรื่อง": {fieldSubject, "th"},
	// Danish/Norwegian/Swedish/Finnish/Czech/Turkish/Polish extras
	"kopi": {fieldCc, "no"}, "kopia": {fieldCc, "sv"}, "sendt den": {fieldDate, "da"},
	"kopio": {fieldCc, "fi"}, "päivämäärä": {fieldDate, "fi"},
	"datum odeslání": {fieldDate, "cs"}, "bilgi": {fieldCc, "tr"}, "tarih": {fieldDate, "tr"},
	"gönderen": {fieldFrom, "tr"}, "gönderilme tarihi": {fieldDate, "tr"}, "data wysłania": {fieldDate, "pl"},
	"відправлено": {fieldDate, "uk"}, "тема листа": {fieldSubject, "uk"},
	// Lotus Notes and others
	"please respond to": {fieldReplyTo, "en"}, "sent on": {fieldDate, "en"},
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
	// Outlook mobile in other languages: "Outlook für Android herunterladen",
	// "Télécharger Outlook pour iOS", "Android용 Outlook 받기", "获取 Android 版 Outlook".
	regexp.MustCompile(`^(从|從)\s?(android|ios|iphone|ipad)\s?版\s?outlook\s?(发送|傳送|寄出)$`),
	regexp.MustCompile(`^(obtener|obtenga|descargar|descarga|obter o|obter|baixe o|baixar o|scarica|ottieni|télécharger|obtenir|hämta|hent|få|pobierz|stáhnout|скачать|получить|завантажити|outlook'u|dapatkan|tải)\s?outlook (für|pour|para|per|voor|för|for|til|dla|pro|для|untuk|cho|android için|ios için)\s?(android|ios)$`),
	regexp.MustCompile(`^outlook (für|voor|for|för) (android|ios) (herunterladen|downloaden|beziehen|hämta|hent)$`),
	regexp.MustCompile(`^(android|ios)\s?(용|版|版の|版的|için|용\s)?\s?outlook\s?(받기|を入手|を入手する|下载|indir|edinin)?$`),
	regexp.MustCompile(`^(获取|取得|下载|下載)\s?(android|ios)\s?版\s?outlook$`),
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
	// Other languages: "Odesláno z iPhonu", "Εστάλη από το iPhone μου", "נשלח מה-iPhone שלי",
	// "iPhone-ról küldve", "Dikirim dari iPhone saya", "Trimis de pe iPhone-ul meu",
	// "iPhone'umdan gönderildi", "ส่งจาก iPhone ของฉัน", "Gửi từ iPhone của tôi", "أُرسلت من الـ iPhone".
	regexp.MustCompile(`^(odesláno|odeslané|posláno) (z|ze|pomocí) .{1,40}$`),
	regexp.MustCompile(`^(εστάλη|στάλθηκε) από .{1,40}$`),
	regexp.MustCompile(`^נשלח (מה-?|מ-?|באמצעות ).{1,40}$`),
	regexp.MustCompile(`^(أُرسلت|أرسلت|تم الإرسال|مرسل) (من|باستخدام) .{1,40}$`),
	regexp.MustCompile(`^.{1,40}(-ról|-ről|ról|ről) küldve$`),
	regexp.MustCompile(`^(dikirim|terkirim) (dari|dengan|menggunakan) .{1,50}$`),
	regexp.MustCompile(`^(trimis|expediat) (de pe|din|cu|de la) .{1,50}$`),
	regexp.MustCompile(`^.{1,50}(gönderildi|gönderilmiştir)$`),
	regexp.MustCompile(`^ส่งจาก\s?.{1,40}$`),
	regexp.MustCompile(`^(android|ios|iphone) için outlook('u)? (edinin|indirin|alın)$`),
	regexp.MustCompile(`^(gửi|được gửi) (từ|bằng) .{1,40}$`),
	regexp.MustCompile(`^(pobierz|skaff deg|få|hent|obțineți|obtineti|získejte|scarica|λήψη του|получите|отримайте|dapatkan|tải) (aplikację |aplikaci )?outlook\s?.{0,30}$`),
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

// sentVia are localized "sent from/with" openings; followed by a device or
// mail app word they make a footer.
var sentVia = []string{
	"gesendet von ", "gesendet mit ", "gesendet über ", "gesendet aus ", "verzonden vanuit ",
	"verzonden met ", "verzonden vanaf ", "verstuurd vanaf ", "verstuurd met ", "verstuurd vanuit ",
	"envoyé de ", "envoyé depuis ", "envoyé avec ", "envoyé à partir de ", "enviado desde ",
	"enviado de ", "enviado do ", "enviado da ", "enviado com ", "enviado con ", "enviado pelo ",
	"enviada desde ", "inviato da ", "inviato con ", "inviato tramite ", "skickat från ", "sendt fra ",
	"sendt med ", "wysłane z ", "wysłano z ", "odesláno z ", "отправлено из ", "отправлено с ",
}

// hasDeviceWord reports whether the rest of a "sent from" line names a
// device or a mail app.
func hasDeviceWord(rest string) bool {
	rest += " "
	for _, w := range deviceWords {
		if strings.Contains(rest, w) {
			return true
		}
	}
	for _, w := range []string{"app", "handy", "web.de", "gmx", "t-online", "libero", "orange", "ios", "ipados"} {
		if strings.Contains(rest, w) {
			return true
		}
	}
	return false
}

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
	"에서", "から送信", "发自", "發自", "来自", "來自", "我的", "送信",
	"odeslá", "posláno", "εστάλη", "στάλθηκε", "נשלח", "أرسلت", "أُرسلت", "الإرسال", "küldve",
	"dikirim", "terkirim", "trimis", "gönderil", "ส่งจาก", "gửi", "pobierz", "få outlook",
	"hent outlook", "skaff", "obțineți", "edinin",
}

func matchFooter(line string) footerStrength {
	n := normalise(line)
	return matchFooterN(n, strings.ToLower(n))
}

// matchFooterN is matchFooter on a normalised line and its lower case.
func matchFooterN(n, lower string) footerStrength {
	if n == "" || len(n) > 160 {
		return footerNone
	}
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
	n = strings.TrimRight(n, ".!。！")
	n = strings.Join(strings.Fields(n), " ")
	if n == "" {
		return footerNone
	}
	for _, re := range footerExact {
		if re.MatchString(n) {
			return footerStrong
		}
	}
	for _, p := range sentVia {
		if rest, ok := strings.CutPrefix(n, p); ok && len(rest) <= 60 && hasDeviceWord(rest) {
			return footerStrong // "Gesendet von Outlook für Android", "Verzonden vanuit Outlook voor iOS"
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
	if plainASCII(s) {
		return s
	}
	var b strings.Builder
	space := false
	for _, r := range s {
		if isBidiMark(r) {
			continue
		}
		if unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff' {
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

// plainASCII reports whether normalise would return s unchanged: ASCII
// without control characters, outer or doubled spaces, or "*" around it.
func plainASCII(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || s[0] == '*' && s[len(s)-1] == '*' {
		return s == ""
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c < ' ' || c == ' ' && s[i+1] == ' ' {
			return false
		}
	}
	return true
}

// isBidiMark reports the invisible direction marks Gmail puts around names
// and addresses in right-to-left headers.
func isBidiMark(r rune) bool {
	return r == '\u200e' || r == '\u200f' || r == '\u061c' || '\u202a' <= r && r <= '\u202e' || '\u2066' <= r && r <= '\u2069'
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
	lower := strings.ToLower(n)
	for _, h := range quoteHeaders {
		switch {
		case h.need == needDigitOrAddr && !digit && !addr, h.need == needAddr && !addr:
			continue
		case !containsAny(lower, h.words):
			continue
		}
		if h.re.MatchString(n) {
			return headerMatch{lang: h.lang, strong: true}, true
		}
	}
	if c := n[0]; c == '*' || '0' <= c && c <= '9' {
		for _, re := range dateNameHeaders {
			if re.MatchString(n) {
				return headerMatch{strong: true}, true
			}
		}
	}
	if lang, ok := matchVerbHeader(n, addr); ok {
		return headerMatch{lang: lang, strong: true}, true
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
	if n == "" {
		return false
	}
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
var headerOpeners = regexp.MustCompile(`(?i)^(on|at|am|le|el|em|il|il giorno|op|den|dnia|w dniu|dne|pe|στις|pada|vào|בתאריך|في|เมื่อ|在|-{2,}\s?on)\s`)

// dateStart matches a line that starts with a date: "2016-10-24",
// "26.06.2014", "2026년 11월", "2026年11月", "20 окт. 2016", "Thu, 26 Jun 2014",
// "понедельник, 6 октября 2014".
var dateStart = regexp.MustCompile(`^(\pL{1,4}\.?,?\s\d{1,2}[./]\s?\d{0,2}|\d{4}[-/.年년]\s?\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|\d{1,2}\.?\s\pL{3,}\.?,?\s\d{4}|\pL{2,}\.?,\s\d{1,2}\.?\s\pL{3,}\.?,?\s\d{4})`)

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

// disclaimerStarts open legal disclaimers and confidentiality notices. A
// line starting with one (lower-cased) whose text also holds the second
// word, when it is set, starts a disclaimer.
var disclaimerStarts = []struct{ start, need string }{
	{"confidentiality notice", ""}, {"confidentiality note", ""}, {"confidential notice", ""},
	{"disclaimer:", ""}, {"legal disclaimer", ""}, {"privileged and confidential", ""},
	{"this e-mail and any attachment", ""}, {"this email and any attachment", ""},
	{"this message and any attachment", ""}, {"this e-mail message and any", ""},
	{"this email message and any", ""}, {"this e-mail is confidential", ""},
	{"this email is confidential", ""}, {"this message is confidential", ""},
	{"this e-mail may contain", "confidential"}, {"this email may contain", "confidential"},
	{"this message may contain", "confidential"}, {"the information contained in this", ""},
	{"the information in this e-mail", ""}, {"the information in this email", ""},
	{"if you are not the intended recipient", ""}, {"important notice:", ""},
	// German
	{"diese e-mail enthält vertrauliche", ""}, {"diese email enthält vertrauliche", ""},
	{"diese nachricht enthält vertrauliche", ""}, {"diese e-mail ist vertraulich", ""},
	{"vertraulichkeitshinweis", ""}, {"wichtiger hinweis:", ""}, {"haftungsausschluss", ""},
	{"diese e-mail und alle anhänge", ""}, {"diese e-mail kann vertrauliche", ""},
	// French
	{"ce message et ses pièces jointes", ""}, {"ce message et toutes les pièces jointes", ""},
	{"ce courriel et ses pièces jointes", ""}, {"ce courriel et toute pièce jointe", ""},
	{"ce message est confidentiel", ""}, {"ce courriel est confidentiel", ""},
	{"avis de confidentialité", ""}, {"ce message électronique et", ""}, {"avertissement :", "confidenti"},
	// Spanish
	{"aviso de confidencialidad", ""}, {"aviso legal", ""}, {"este mensaje y sus anexos", ""},
	{"este mensaje y sus archivos adjuntos", ""}, {"este correo electrónico y sus anexos", ""},
	{"este correo electrónico y cualquier", ""}, {"este mensaje es confidencial", ""},
	{"la información contenida en este", ""}, {"este mensaje se dirige exclusivamente", ""},
	{"este correo y sus adjuntos", ""},
	// Portuguese
	{"aviso de confidencialidade", ""}, {"esta mensagem e seus anexos", ""},
	{"esta mensagem e os seus anexos", ""}, {"esta mensagem é confidencial", ""},
	{"as informações contidas nesta", ""}, {"este e-mail e seus anexos", ""},
	{"esta mensagem pode conter", "confidenc"},
	// Italian
	{"questo messaggio e i suoi allegati", ""}, {"questo messaggio e gli eventuali allegati", ""},
	{"questa e-mail e i suoi allegati", ""}, {"questa email e i suoi allegati", ""},
	{"le informazioni contenute in questo", ""}, {"avviso di riservatezza", ""},
	{"informativa sulla riservatezza", ""}, {"questo messaggio è riservato", ""},
	// Dutch
	{"dit bericht en eventuele bijlagen", ""}, {"dit e-mailbericht en eventuele bijlagen", ""},
	{"dit e-mailbericht is", "vertrouwelijk"}, {"dit bericht is vertrouwelijk", ""},
	{"de informatie verzonden met dit", ""}, {"de informatie in dit e-mailbericht", ""},
	// Nordic, Finnish, Polish, Czech, Turkish, Russian, Ukrainian
	{"detta e-postmeddelande", "konfidentiell"}, {"detta meddelande", "konfidentiell"},
	{"denne e-mail", "fortrolig"}, {"denne e-posten", "konfidensiell"}, {"denne e-posten", "fortrolig"},
	{"denne meddelelse", "fortrolig"}, {"tämä sähköposti", "luottamuksellinen"},
	{"tämä viesti", "luottamuksellinen"}, {"ta wiadomość", "poufn"}, {"niniejsza wiadomość", ""},
	{"tato zpráva", "důvěrn"}, {"tento e-mail", "důvěrn"}, {"bu e-posta", "gizli"},
	{"bu e-posta mesajı", ""}, {"bu mesaj", "gizli"}, {"yasal uyarı", ""}, {"yasal uyari", ""},
	{"это сообщение", "конфиденциальн"}, {"данное сообщение", ""}, {"настоящее сообщение", ""},
	{"конфиденциальность:", ""}, {"це повідомлення", "конфіденційн"},
	{"tämä sähköpostiviesti", "luottamuksellis"}, {"ez az e-mail", "bizalmas"}, {"ez az üzenet", "bizalmas"},
	{"email ini", "rahasia"}, {"e-mail ini", "rahasia"}, {"pesan ini", "rahasia"},
	{"treść tej wiadomości", "poufn"}, {"acest mesaj", "confidențial"}, {"acest e-mail", "confidențial"},
	{"this message contains confidential", ""}, {"this email contains confidential", ""},
	{"this e-mail contains confidential", ""}, {"yasal uyarı", ""}, {"цей лист", "конфіденційн"},
	{"тази информация", "поверител"}, {"αυτό το μήνυμα", "εμπιστευτικ"}, {"הודעה זו", "חסוי"},
	{"تنويه:", ""}, {"إخلاء المسؤولية", ""}, {"ข้อความนี้", "ลับ"}, {"thư này", "bảo mật"},
	{"email này", "bảo mật"}, {"denne e-post", "konfidensiell"}, {"denne e-mail og", "fortrolig"},
	{"dette e-postbrevet", ""}, {"dieses e-mail", "vertraulich"},
	// CJK
	{"본 메일은", ""}, {"본 이메일은", ""}, {"이 메일은", "기밀"}, {"이 이메일은", "기밀"},
	{"본 메일에는", ""}, {"[보안", ""}, {"본メールは", ""}, {"本メールは", ""}, {"本メールには", ""},
	{"このメールは", "機密"}, {"本電子メール", ""}, {"本メール及び", ""}, {"【機密", ""},
	{"本邮件及其附件", ""}, {"此邮件及其附件", ""}, {"本邮件含有", ""}, {"本电子邮件", ""},
	{"本郵件", ""}, {"本電子郵件", ""}, {"保密声明", ""}, {"免责声明", ""}, {"免責聲明", ""},
}

// isDisclaimerStart reports whether a normalised, lower-cased line opens a
// legal disclaimer.
func isDisclaimerStart(lower string) bool {
	n := strings.TrimLeft(lower, "*_[( ")
	if n == "" || len(n) > 600 {
		return false
	}
	for _, d := range disclaimerStarts {
		if strings.HasPrefix(n, d.start) && (d.need == "" || strings.Contains(n, d.need)) {
			return true
		}
	}
	return false
}

// verbHeader finds the verb of a quote header anywhere in a line ending with
// a colon, in any of these languages: "Den ons 17 nov. 2021 kl 11:00 skrev
// Anna <a@b.se>:", "ke 17.11.2021 klo 11.00 Anna (a@b.fi) kirjoitti:", "Anna
// <a@b.hu> ezt írta (időpont: 2021. nov. 17., Sze, 11:00):".
var verbHeader = regexp.MustCompile(`(?i)(?:^|[\s)>"'])(wrote|writes|schrieb|geschrieben|a\s?écrit|escribió|escreveu|ha scritto|scrisse|schreef|skrev|skrifaði|kirjoitti|kirjutas|napisał\(a\)|napisała|napisał|pisze|napsal\(a\)|napsala|napsal|napísal\(a\)|napísal|yazdı|írta|a scris|написал\(а\)|написала|написал|пишет|написав\(ла\)|написав|пише|написа|έγραψε|כתב|כתבה|كتب|เขียนว่า|เขียน|đã viết|menulis|napisao|napisala|написао|napisal|rašė|rakstīja|va escriure|escribiu|نوشت|ने लिखा)(?:[\s:：,(]|$)`)

var verbLang = map[string]string{
	"wrote": "en", "writes": "en", "schrieb": "de", "geschrieben": "de", "a écrit": "fr", "aécrit": "fr",
	"escribió": "es", "escreveu": "pt", "ha scritto": "it", "scrisse": "it", "schreef": "nl",
	"skrev": "sv", "skrifaði": "is", "kirjoitti": "fi", "kirjutas": "et", "napisał(a)": "pl",
	"napisała": "pl", "napisał": "pl", "pisze": "pl", "napsal(a)": "cs", "napsala": "cs", "napsal": "cs",
	"napísal(a)": "sk", "napísal": "sk", "yazdı": "tr", "írta": "hu", "a scris": "ro",
	"написал(а)": "ru", "написала": "ru", "написал": "ru", "пишет": "ru", "написав(ла)": "uk",
	"написав": "uk", "пише": "uk", "написа": "bg", "έγραψε": "el", "כתב": "he", "כתבה": "he",
	"كتب": "ar", "เขียน": "th", "đã viết": "vi", "menulis": "id", "napisao": "hr", "napisala": "hr",
	"rašė": "lt", "rakstīja": "lv", "va escriure": "ca", "เขียนว่า": "th", "написао": "sr", "napisal": "sl",
	"escribiu": "gl", "نوشت": "fa", "ने लिखा": "hi",
}

// timeToken is a clock time: "11:00", "11.00" (not the "20.11" of "20.11.2021").
var timeToken = regexp.MustCompile(`(?:^|[^\d.])\d{1,2}[:.]\d{2}(?:[^\d.]|$)`)

// matchVerbHeader recognises a header by its verb, a trailing colon and
// evidence: an address, or a clock time.
func matchVerbHeader(n string, addr bool) (string, bool) {
	if !strings.HasSuffix(n, ":") && !strings.HasSuffix(n, "：") {
		return "", false
	}
	loc := verbHeader.FindStringSubmatchIndex(n)
	if loc == nil {
		return "", false
	}
	// Without an address the line must start like a header ("On 11/17/2021
	// 11:00, Jane wrote:") or date the verb ("Jane kirjoitti 17.11.2021
	// kello 11.00:"), so that "Yesterday at 10:00 the server wrote:" is text.
	if !addr && !(headerStart(n) && timeToken.MatchString(n) || timeToken.MatchString(n[loc[3]:])) {
		return "", false
	}
	return verbLang[strings.ToLower(n[loc[2]:loc[3]])], true
}

// isGroupWiseHeader recognises GroupWise's quote header
// ">>> Jane <jane@example.com> 11/17/2021 11:00 AM >>>".
func isGroupWiseHeader(trimmed string) bool {
	if len(trimmed) < 8 || len(trimmed) > maxHeaderLen || !strings.HasPrefix(trimmed, ">>>") || !strings.HasSuffix(trimmed, ">>>") {
		return false
	}
	inner := strings.TrimSpace(trimmed[3 : len(trimmed)-3])
	digit, _ := evidenceIn(inner)
	return len(inner) > 4 && digit && strings.IndexFunc(inner, unicode.IsLetter) >= 0
}

// matchNotesRespond recognises the "Please respond to" line of a Lotus
// Notes header.
func matchNotesRespond(lower string) (string, bool) {
	switch lower {
	case "please respond to":
		return "en", true
	case "bitte antworten an", "antwort bitte an":
		return "de", true
	case "veuillez répondre à", "répondre à":
		return "fr", true
	}
	return "", false
}

// notesWrote is Lotus Notes' "-----Jane <jane@example.com> wrote: -----".
var notesWrote = regexp.MustCompile(`(?i)^-{3,}\s?.{2,200}\s(wrote|schrieb|a écrit|escribió|escreveu|ha scritto|schreef|skrev|napisał)\s?(on .{4,60})?:\s?-{3,}$`)

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}

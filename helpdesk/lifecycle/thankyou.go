package lifecycle

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxThankYou bounds the length of a thank-you reply, in runes.
const maxThankYou = 400

type wordKind uint8

const (
	unknownWord wordKind = iota
	fillerWord           // allowed around thanks: greetings, sign-offs, "so much", "it works now"
	thanksWord           // says thanks
)

// vocabulary of thank-you replies (read-only). Words that change the meaning ("not",
// "but", "still", "again" with a verb of failure, "problem", 안, 못, ない...)
// are deliberately absent, so that a reply saying anything else is no
// thank-you.
var vocabulary = func() map[string]wordKind {
	m := map[string]wordKind{}
	add := func(k wordKind, words string) {
		for _, w := range strings.Fields(words) {
			m[w] = k
		}
	}
	add(thanksWord, `thanks thank thankyou thx thnx thnks tnx ty tyvm appreciated appreciate
		danke dankeschön dankeschon dank merci remercie remercions gracias agradezco grazie
		감사합니다 감사드립니다 감사해요 감사했습니다 감사드려요 감사하고 감사하다 감사요 감사 고맙습니다 고마워요 고마워 고맙네요 땡큐
		ありがとうございます ありがとうございました ありがとう 有難うございます 有難うございました 感謝します 感謝いたします 感謝申し上げます
		谢谢 感谢 多谢`)
	add(fillerWord, `you u so very much a lot lots many again for your the all everything help helping assistance
		support team guys folks everyone kind kindly great perfect awesome excellent wonderful amazing brilliant
		fantastic nice cool super hi hello hey dear regards best warm wishes cheers sincerely yours br kr ok okay
		really truly it that this s works worked working fixed now solved resolved sorted good quick fast prompt
		speedy response reply answer have day weekend i we is was has been got sent from my iphone ipad android
		phone mobile outlook just wanted to say oh ah wow yes yep yeah indeed and as always info information
		explanation clear understood makes sense noted
		vielen viel herzlichen herzlich besten lieben liebe lieber schön schoen sehr für fuer die ihre eure deine
		hilfe unterstützung schnelle antwort hallo guten tag grüße grüsse gruesse gruß gruss viele beste mit
		freundlichen freundlichem lg vg mfg es funktioniert jetzt alles klar perfekt toll prima noch mal nochmal
		und ein schönes schönen einen wochenende
		beaucoup bien mille fois un une grand bonjour bonsoir salut cordialement bonne journée journee soirée
		soiree pour votre vos ton aide réponse reponse rapide ça ca marche fonctionne maintenant parfait génial
		genial encore tout est c l de la le les à je vous nous et bon
		muchas muchísimas muchisimas mil hola buenos buenas días dias tardes saludos saludo por su tu ayuda
		respuesta rápida rapida perfecto ya funciona todo nuevo otra vez el atentamente cordiales te lo muy amable
		y estimado estimada equipo
		정말 너무 진심으로 대단히 매우 많이 참 다시 한번 한 번 더 도움 도움에 도움이 되었습니다 됐습니다 되었어요 됐어요
		주셔서 도와주셔서 빠른 답변 답변에 친절한 친절하게 안내 안내에 덕분에 해결 해결되었습니다 했습니다 잘 확인
		네 넵 예 안녕하세요 수고하세요 수고하셨습니다 수고 많으셨습니다 좋은 하루 되세요 보내세요 드림 올림 님 여러분
		지원팀 팀 담당자님 문제가 문제 다 모두 좋습니다 완료 되었네요 됐네요 이제 드립니다
		どうも 本当に ほんとうに 誠に 大変 たいへん 助かりました 解決しました 了解しました 承知しました 確認しました
		よろしくお願いします よろしくお願いいたします 宜しくお願いします お世話になっております お世話になります
		こんにちは 早速の ご対応 いただき ご回答 ご連絡 様 さま 皆様 問題が 問題なく 直りました
		非常`)
	return m
}()

// greetings may open a first line followed by names ("Hi Sarah,"); read-only.
var greetings = map[string]bool{"hi": true, "hello": true, "hey": true, "dear": true, "hallo": true,
	"liebe": true, "lieber": true, "bonjour": true, "hola": true, "estimado": true, "estimada": true}

// IsThankYou reports whether text (a reply without quotes) only says thanks,
// in English, Korean, Japanese, German, French or Spanish (a little Chinese
// and Italian), with at most greetings, sign-offs, "it works now" and a
// final name line: "Thanks!", "감사합니다.", "ありがとうございました", "Vielen
// Dank!", "Merci beaucoup", "Hi Ann, thank you so much, it works now! Best,
// Bob". Anything else makes it no thank-you: "thanks, but it still fails",
// "No thanks", "감사합니다. 그런데 아직 안 됩니다". Lines quoted with '>' are
// ignored. When in doubt it says no: the case then reopens, which is the
// harmless error.
func IsThankYou(text string) bool {
	if utf8.RuneCountInString(text) > maxThankYou {
		return false
	}
	var lines []string
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, ">") {
			lines = append(lines, l)
		}
	}
	thanks := false
	for i, l := range lines {
		words := tokens(l)
		kinds, ok := classify(words)
		if !ok {
			switch {
			case i == 0 && len(lines) > 1 && greetingLine(l, words):
				continue
			case i == len(lines)-1 && i > 0 && thanks && nameLine(l):
				continue
			}
			return false
		}
		for _, k := range kinds {
			if k == thanksWord {
				thanks = true
			}
		}
	}
	return thanks
}

// tokens returns the lower-cased words of s: runs of letters, marks and digits.
func tokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r)
	})
}

// classify returns the kind of each word, and false when one is unknown.
func classify(words []string) ([]wordKind, bool) {
	kinds := make([]wordKind, 0, len(words))
	for _, w := range words {
		k := vocabulary[w]
		if k == unknownWord && cjk(w) {
			k = segment(w)
		}
		if k == unknownWord {
			return nil, false
		}
		kinds = append(kinds, k)
	}
	return kinds, true
}

func cjk(w string) bool {
	for _, r := range w {
		if unicode.In(r, unicode.Hangul, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			return true
		}
	}
	return false
}

// segment splits a word written without spaces ("정말감사합니다",
// "本当にありがとうございました") into vocabulary words: thanksWord when it
// splits and one part says thanks, fillerWord when it splits without,
// unknownWord when it does not split.
func segment(w string) wordKind {
	rs := []rune(w)
	best := make([]wordKind, len(rs)+1) // best[i]: the prefix of i runes; unknownWord: no split
	best[0] = fillerWord
	for i := range len(rs) {
		if best[i] == unknownWord {
			continue
		}
		for j := i + 1; j <= len(rs) && j-i <= 16; j++ {
			k := vocabulary[string(rs[i:j])]
			if k == unknownWord {
				continue
			}
			best[j] = max(best[j], max(k, best[i]))
		}
	}
	return best[len(rs)]
}

// greetingLine: a greeting followed by at most three capitalised names.
func greetingLine(line string, words []string) bool {
	if len(words) < 2 || len(words) > 4 || !greetings[words[0]] {
		return false
	}
	orig := strings.FieldsFunc(line, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) })
	for _, w := range orig[1:] {
		if vocabulary[strings.ToLower(w)] == unknownWord && !capitalised(w) {
			return false
		}
	}
	return true
}

// nameLine: a signature of one to three capitalised words ("Bob", "Ann-Marie
// Smith"), or a Korean name of two to four syllables with 드림/올림.
func nameLine(line string) bool {
	words := strings.FieldsFunc(line, func(r rune) bool {
		return unicode.IsSpace(r) || strings.ContainsRune(",.-–—_~/|", r)
	})
	if len(words) == 0 || len(words) > 3 {
		return false
	}
	joined := strings.Join(words, "")
	for _, suffix := range []string{"드림", "올림"} {
		if name, ok := strings.CutSuffix(joined, suffix); ok {
			n := utf8.RuneCountInString(name)
			return n >= 2 && n <= 4 && allIn(name, unicode.Hangul)
		}
	}
	for _, w := range words {
		if !capitalised(w) {
			return false
		}
	}
	return true
}

// capitalised: letters only, the first upper case (a Latin-script name).
func capitalised(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	if !unicode.IsUpper(r) {
		return false
	}
	for _, r := range w {
		if !unicode.IsLetter(r) && r != '\'' {
			return false
		}
	}
	return true
}

func allIn(s string, t *unicode.RangeTable) bool {
	for _, r := range s {
		if !unicode.Is(t, r) {
			return false
		}
	}
	return s != ""
}

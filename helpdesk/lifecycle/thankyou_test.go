package lifecycle

import (
	"strings"
	"testing"
)

func TestIsThankYou_OnlyThanks(t *testing.T) {
	yes := []string{
		"Thanks!",
		"thanks",
		"Thank you so much!!",
		"Thank you very much for your help.",
		"thx",
		"Many thanks, it works now 👍",
		"Great, thanks a lot!",
		"Much appreciated.",
		"Hi Sarah,\n\nThanks a lot, that fixed it!\n\nBest regards,\nTom",
		"Hello Support Team,\nthank you for the quick response.\nCheers",
		"Thanks!\n\nSent from my iPhone",
		"Thanks!\n> On Monday support wrote:\n> the fix is deployed",
		"Thanks again!\n\nAnn-Marie Smith",
		"감사합니다",
		"감사합니다!",
		"고맙습니다.",
		"감사해요~",
		"정말 감사합니다.",
		"정말감사합니다",
		"네, 확인했습니다. 감사합니다!",
		"안녕하세요.\n빠른 답변 감사드립니다.\n좋은 하루 되세요.",
		"문제가 해결되었습니다. 감사합니다.\n홍길동 드림",
		"ありがとうございます",
		"ありがとうございました！",
		"本当にありがとうございました。助かりました。",
		"ありがとうございます助かりました",
		"Vielen Dank!",
		"Danke schön, es funktioniert jetzt.\nViele Grüße\nJan",
		"Merci beaucoup !",
		"Merci, ça marche maintenant. Cordialement",
		"¡Muchas gracias!",
		"Gracias, ya funciona. Saludos",
		"谢谢！",
	}
	for _, s := range yes {
		if !IsThankYou(s) {
			t.Errorf("IsThankYou(%q) = false, want true", s)
		}
	}
}

func TestIsThankYou_ThanksWithMoreToSay(t *testing.T) {
	no := []string{
		"",
		"   \n ",
		"ok",
		"Great!",
		"Hi Sarah,",
		"Thanks, but it still fails.",
		"Thanks. The problem is back.",
		"No thanks",
		"thanks, I have another question",
		"Thanks! Can you also check the invoice?",
		"Thank you, it doesn't work.",
		"Thanks for nothing.",
		"Thanks\nError 500 again",
		"Thanks!\nAny update?",
		"Thanks!\nJohn Smith | ACME Corp | +82 2 1234 5678",
		"감사합니다. 그런데 아직 안 됩니다.",
		"감사합니다. 하지만 여전히 오류가 발생합니다.",
		"해결이 안 됐습니다. 감사합니다",
		"확인 부탁드립니다. 감사합니다.",
		"감사합니다\n김철수",
		"ありがとうございます。しかしまだエラーが出ます。",
		"Danke, aber es funktioniert noch nicht.",
		"Merci, mais ça ne marche pas.",
		"Gracias, pero no funciona.",
		"Thanks " + strings.Repeat("so much ", 60),
		"#rating good",
	}
	for _, s := range no {
		if IsThankYou(s) {
			t.Errorf("IsThankYou(%q) = true, want false", s)
		}
	}
}

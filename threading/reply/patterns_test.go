package reply

import (
	"strings"
	"testing"
)

func TestMatchQuoteHeader_Languages(t *testing.T) {
	tests := []struct {
		line, lang string
	}{
		{"On Fri, Nov 20, 2026 at 3:00 PM Jane Doe <jane@example.com> wrote:", "en"},
		{"On 20 Nov 2026, at 15:00, Jane Doe <jane@example.com> wrote:", "en"},
		{"At 6/16/2016 08:32 PM, you wrote:", "en"},
		{"---- On Fri, 20 Nov 2026 15:00:00 +0900 Jane <jane@example.com> wrote ----", "en"},
		{"Jane Doe <jane@example.com> wrote:", "en"},
		{"Am Fr., 20. Nov. 2026 um 15:00 Uhr schrieb Jan <jan@example.de>:", "de"},
		{"Jan Müller <jan@example.de> schrieb am Fr., 20. Nov. 2026 um 15:00 Uhr:", "de"},
		{"Le ven. 20 nov. 2026 à 15:00, Jean <jean@example.fr> a écrit :", "fr"},
		{"Le 2026-11-20 15:00, Jean a écrit :", "fr"},
		{"El vie, 20 nov 2026 a las 15:00, Ana (<ana@example.es>) escribió:", "es"},
		{"Em sex., 20 de nov. de 2026 às 15:00, Ana <ana@example.pt> escreveu:", "pt"},
		{"Il giorno ven 20 nov 2026 alle ore 15:00 Anna <anna@example.it> ha scritto:", "it"},
		{"Op vr 20 nov. 2026 om 15:00 schreef Jan <jan@example.nl>:", "nl"},
		{"Op 20 nov. 2026 om 15:00 heeft Jan <jan@example.nl> het volgende geschreven:", "nl"},
		{"Den 20 nov. 2026 kl. 15:00 skrev Anna <anna@example.se>:", "sv"},
		{"Dnia 20 lis 2026 o godz. 15:00 Jan <jan@example.pl> napisał(a):", "pl"},
		{"20 нояб. 2026 г., в 15:00, Иван <ivan@example.ru> написал(а):", "ru"},
		{"20.11.2026 15:00, Иван Петров пишет:", "ru"},
		{"понедельник, 6 октября 2014 г. пользователь Иван написал:", "ru"},
		{"20 лист. 2026 р. 15:00 \"Олена\" <olena@example.ua> пише:", "uk"},
		{"在 2026年11月20日，下午3:00，张三 <zhang@example.cn> 写道：", "zh"},
		{"张三 <zhang@example.cn> 于2026年11月20日周五 15:00写道：", "zh"},
		{"2026年11月20日(金) 15:00 山田太郎 <taro@example.jp>:", "ja"},
		{"2026/11/20 15:00、山田太郎 <taro@example.jp>のメッセージ:", "ja"},
		{"山田太郎さんは書きました:", "ja"},
		{"2026년 11월 20일 (금) 오후 3:00, 홍길동 <a@b.com>님이 작성:", "ko"},
		{"2026. 11. 20. 오후 3:00, 홍길동 <a@b.com> 작성:", "ko"},
		{"2026-11-20 오후 3:00에 홍길동 이(가) 쓴 글:", "ko"},
		{"26.06.2014, 14:41, \"Alexander L\" <abc@example.com>:", ""},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			m, ok := matchQuoteHeader(normalise(tt.line))
			if !ok {
				t.Fatalf("not recognised as a quote header")
			}
			if m.lang != tt.lang {
				t.Errorf("lang = %q, want %q", m.lang, tt.lang)
			}
		})
	}
}

func TestMatchQuoteHeader_SentencesAreNotHeaders(t *testing.T) {
	for _, line := range []string{
		"On your remote host you can run:",
		"On reflection, Bob wrote:",
		"In 2020 my colleague wrote:",
		"Am Montag schrieb er:",
		"2026년 보고서 작성:",
		"I wrote something",
		"Steps to reproduce:",
		"The deadline is 2026-12-01:",
	} {
		if m, ok := matchQuoteHeader(normalise(line)); ok {
			t.Errorf("%q recognised as a %+v header", line, m)
		}
	}
}

func TestMatchSeparator(t *testing.T) {
	tests := []struct {
		line, lang string
		ok         bool
	}{
		{"-----Original Message-----", "en", true},
		{"----- Original Message -----", "en", true},
		{"*-------- Original Message --------*", "en", true},
		{"---------- Forwarded message ---------", "en", true},
		{"Begin forwarded message:", "en", true},
		{"-----Ursprüngliche Nachricht-----", "de", true},
		{"-----Message d'origine-----", "fr", true},
		{"-----Mensaje original-----", "es", true},
		{"-----Mensagem original-----", "pt", true},
		{"-----Messaggio originale-----", "it", true},
		{"-----Oorspronkelijk bericht-----", "nl", true},
		{"-----Ursprungligt meddelande-----", "sv", true},
		{"-----Исходное сообщение-----", "ru", true},
		{"-----원본 메시지-----", "ko", true},
		{"-------- 원본 메시지 --------", "ko", true},
		{"---------- 전달된 메일 ---------", "ko", true},
		{"-----元のメッセージ-----", "ja", true},
		{"------------------ 原始邮件 ------------------", "zh", true},
		{"------------------ Original ------------------", "en", true},
		{"Original Message", "", false},
		{"-- message --", "", false},
		{"  Original message follows", "", false},
	}
	for _, tt := range tests {
		lang, _, ok := matchSeparator(normalise(tt.line))
		if ok != tt.ok || lang != tt.lang {
			t.Errorf("matchSeparator(%q) = %q, %v; want %q, %v", tt.line, lang, ok, tt.lang, tt.ok)
		}
	}
}

func TestFromText_OutlookHeaderBlocksInManyLanguages(t *testing.T) {
	blocks := []struct {
		lang   string
		fields [4]string // from, sent, to, subject
	}{
		{"en", [4]string{"From", "Sent", "To", "Subject"}},
		{"de", [4]string{"Von", "Gesendet", "An", "Betreff"}},
		{"fr", [4]string{"De ", "Envoyé ", "À ", "Objet "}},
		{"es", [4]string{"De", "Enviado el", "Para", "Asunto"}},
		{"pt", [4]string{"De", "Enviada", "Para", "Assunto"}},
		{"it", [4]string{"Da", "Inviato", "A", "Oggetto"}},
		{"nl", [4]string{"Van", "Verzonden", "Aan", "Onderwerp"}},
		{"sv", [4]string{"Från", "Skickat", "Till", "Ämne"}},
		{"ru", [4]string{"От", "Отправлено", "Кому", "Тема"}},
		{"zh", [4]string{"发件人", "发送时间", "收件人", "主题"}},
		{"ja", [4]string{"差出人", "送信日時", "宛先", "件名"}},
		{"ko", [4]string{"보낸 사람", "보낸 날짜", "받는 사람", "제목"}},
	}
	for _, b := range blocks {
		t.Run(b.lang, func(t *testing.T) {
			f := b.fields
			body := "New text.\n\n" +
				f[0] + ": Support <support@example.com>\n" +
				f[1] + ": 2026-11-20 15:00\n" +
				f[2] + ": Customer <c@example.com>\n" +
				f[3] + ": [Case #1234] Test\n\nOld text.\n"
			got := FromText(body)
			if got.Text != "New text." {
				t.Errorf("Text = %q", got.Text)
			}
			if got.Reason != "quote-header:"+b.lang {
				t.Errorf("Reason = %q, want quote-header:%s", got.Reason, b.lang)
			}
		})
	}
}

func TestMatchFooter(t *testing.T) {
	strong := []string{
		"Sent from my iPhone", "Sent from my iPad", "Sent from Outlook for Android",
		"Sent from my Samsung Galaxy smartphone.", "Get Outlook for iOS<https://aka.ms/o0ukef>",
		"Sent from my cell, please excuse any typos.", "iPhone에서 보냄", "Galaxy 스마트폰에서 보냄",
		"Samsung Galaxy smartphone에서 보냄", "iPhoneから送信", "Envoyé de mon iPhone",
		"Von meinem iPhone gesendet", "Enviado desde mi iPhone", "Enviado do meu iPhone",
		"Inviato da iPhone", "Verstuurd vanaf mijn iPhone", "Skickat från min iPhone",
		"Sendt fra min iPad", "Отправлено с iPhone", "发自我的iPhone", "從我的 iPhone 傳送",
		"(Sent from mobile device)", "<<sent by galaxy>>",
	}
	for _, l := range strong {
		if got := matchFooter(l); got != footerStrong {
			t.Errorf("matchFooter(%q) = %v, want strong", l, got)
		}
	}
	weak := []string{"Sent from my TI-85", "Sent via the web", "Sent from the road"}
	for _, l := range weak {
		if got := matchFooter(l); got != footerWeak {
			t.Errorf("matchFooter(%q) = %v, want weak", l, got)
		}
	}
	none := []string{
		"Sent from my desk, is much easier then my mobile phone.",
		"I sent the logs from my laptop yesterday, can you check them please?",
		"Thanks", "보내 주셔서 감사합니다",
	}
	for _, l := range none {
		if got := matchFooter(l); got != footerNone {
			t.Errorf("matchFooter(%q) = %v, want none", l, got)
		}
	}
}

func TestFromText_WeakFooterOnlyAtTheEnd(t *testing.T) {
	in := "Sent with care, here is the plan:\n" + strings.Repeat("step\n", 3)
	if got := FromText(in); got.Reason != ReasonNone {
		t.Errorf("Reason = %q, want none (text follows the line)", got.Reason)
	}
	if got := FromText("Done.\n\nSent from the road"); got.Text != "Done." {
		t.Errorf("Text = %q, want the weak footer at the end removed", got.Text)
	}
}

package templates

import (
	"strings"
	"testing"
)

func TestRender_AcknowledgementListsOnlyTheMissingDiagnostics(t *testing.T) {
	s := newSet(t, Options{})
	lines := map[string]map[DiagnosticItem]string{
		"en": {DiagnosticTimeWindow: "with your time zone", DiagnosticVersion: "The version of the product", DiagnosticError: "exact error message",
			DiagnosticSteps: "steps to reproduce", DiagnosticImpact: "How many users are affected", DiagnosticFiles: "Logs or screenshots"},
		"ko": {DiagnosticTimeWindow: "시간대", DiagnosticVersion: "제품 버전", DiagnosticError: "오류 메시지나 스택 트레이스",
			DiagnosticSteps: "재현하는 단계", DiagnosticImpact: "영향받는 사용자 수", DiagnosticFiles: "로그 파일이나 스크린샷"},
	}
	intro := map[string]string{"en": "To start work on your case", "ko": "문제 확인을 바로 시작할 수 있도록"}
	for _, missing := range [][]DiagnosticItem{nil, {DiagnosticVersion, DiagnosticFiles}, {DiagnosticTimeWindow, DiagnosticError, DiagnosticSteps, DiagnosticImpact}} {
		for _, loc := range Locales() {
			d := Sample(CaseReceived).(CaseReceivedData)
			d.Missing = missing
			r := mustRender(t, s, loc, d)
			for _, body := range []string{r.Text, r.HTML} {
				if strings.Contains(body, intro[loc]) != (len(missing) > 0) {
					t.Errorf("%s, missing %v: intro shown %t", loc, missing, !(len(missing) > 0))
				}
				for item, line := range lines[loc] {
					want := false
					for _, m := range missing {
						want = want || m == item
					}
					if strings.Contains(body, line) != want {
						t.Errorf("%s, missing %v: %q shown %t, want %t", loc, missing, line, !want, want)
					}
				}
			}
		}
	}
}

func TestRender_RequestsSayWhatToSendAndHowToAnswer(t *testing.T) {
	s := newSet(t, Options{})
	tests := []struct {
		d    Data
		want map[string][]string
	}{
		{Sample(DiagnosticsRequest), map[string][]string{
			"en": {"#1042", "a HAR file of the login page", "Logs or screenshots", "steps to reproduce", "The version", "time zone", "stack trace"},
			"ko": {"#1042", "a HAR file of the login page", "로그 파일이나 스크린샷", "재현하는 단계", "제품 버전", "시간대", "스택 트레이스"}}},
		{Sample(ConsentRequest), map[string][]string{
			"en": {"#1042", "authentication logs of 4 March", "#approve", "#deny", "only with your approval"},
			"ko": {"#1042", "authentication logs of 4 March", "#approve", "#deny", "승인하신 경우에만"}}},
	}
	for _, tt := range tests {
		for loc, wants := range tt.want {
			r := mustRender(t, s, loc, tt.d)
			for _, w := range wants {
				if !strings.Contains(r.Text, w) || !strings.Contains(r.HTML, w) {
					t.Errorf("%s %s lacks %q:\n%s", loc, tt.d.Kind(), w, r.Text)
				}
			}
		}
	}
}

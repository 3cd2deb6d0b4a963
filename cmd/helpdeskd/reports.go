package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/helpdesk/helpdesk/helpdesk"
)

// reportCommand is `helpdeskd report csat|sla|load`.
func reportCommand() *command {
	return &command{Name: "report", Usage: "satisfaction, first-response and workload reports", Children: []*command{
		reportCSATCommand(), reportSLACommand(), reportLoadCommand()}}
}

// reportSinceFlag binds --since; reportSince parses it.
func reportSinceFlag(fs *flag.FlagSet, s *string, what string) {
	*s = ""
	fs.StringVar(s, "since", "", what+" since `DATE`: 2006-01-02, RFC 3339, or an age such as 30d or 12h (default: all)")
}

// reportSince parses --since as of now; the zero time without one.
func reportSince(s string, now time.Time) (time.Time, *time.Time, error) {
	if s == "" {
		return time.Time{}, nil, nil
	}
	t, err := helpdesk.ParseSince(s, now)
	if err != nil {
		return time.Time{}, nil, usagef("--since %q: want a date (2006-01-02), an RFC 3339 time or an age such as 30d or 12h", s)
	}
	return t, &t, nil
}

func reportSinceText(t *time.Time) string {
	if t == nil {
		return "all time"
	}
	return "since " + stamp(*t)
}

func reportCSATCommand() *command {
	var from string
	return &command{
		Name: "csat", Usage: "survey ratings per agent and overall, response rate and comments", JSON: true,
		Help: `A case's latest rating counts, for the agent assigned when it was given. A
survey is answered when its case was rated after it was sent; it counts for
the agent assigned when it was sent. Comments are listed newest first.`,
		Flags: func(fs *flag.FlagSet) { reportSinceFlag(fs, &from, "ratings and surveys") },
		Run: func(ctx context.Context, inv *invocation) error {
			t, shown, err := reportSince(from, time.Now())
			if err != nil {
				return err
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			evs, err := helpdesk.SurveyEvents(ctx, s.DB(), t)
			if err != nil {
				return err
			}
			rep := helpdesk.SummarizeCSAT(evs)
			rep.Since = shown
			return inv.print(rep, func(w io.Writer) error {
				fmt.Fprintf(w, "Satisfaction, %s\n\n", reportSinceText(shown))
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AGENT\tGOOD\tBAD\tSATISFACTION\tSURVEYS SENT\tANSWERED\tRESPONSE RATE")
				row := func(name string, l helpdesk.CSATLine) {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%d\t%d\t%s\n", name, l.Good, l.Bad, reportPct(l.Satisfaction),
						l.SurveysSent, l.SurveysAnswered, reportPct(l.ResponseRate))
				}
				for _, l := range rep.Agents {
					row(reportAgent(l.Agent), l)
				}
				row("(all)", rep.Overall)
				if err := tw.Flush(); err != nil {
					return err
				}
				fmt.Fprintf(w, "\nComments (%d), newest first\n", len(rep.Comments))
				for _, c := range rep.Comments {
					fmt.Fprintf(w, "  #%d  %s  %s  %s: %s\n", c.CaseID, stamp(c.At), reportAgent(c.Agent), c.Rating, c.Comment)
				}
				return nil
			})
		},
	}
}

func reportSLACommand() *command {
	var from string
	return &command{
		Name: "sla", Usage: "first-response attainment by severity and plan, median and p90 response time", JSON: true,
		Help: `Cases created in the period (merged ones excepted), against the due time
recorded when each was opened: met, breached (answered late, or solved
unanswered after the due time), overdue (unanswered, past due), waiting (not
yet due), unanswered (solved before the due time without a response), no
target. Attainment is met of met + breached + overdue. Response times are
wall time from creation to the first response.`,
		Flags: func(fs *flag.FlagSet) { reportSinceFlag(fs, &from, "cases created") },
		Run: func(ctx context.Context, inv *invocation) error {
			now := time.Now()
			t, shown, err := reportSince(from, now)
			if err != nil {
				return err
			}
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			cs, err := helpdesk.SLACases(ctx, s.DB(), t)
			if err != nil {
				return err
			}
			rep := helpdesk.SummarizeSLA(cs, now)
			rep.Since = shown
			return inv.print(rep, func(w io.Writer) error {
				fmt.Fprintf(w, "First response, cases created %s\n\n", reportSinceText(shown))
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "GROUP\tCASES\tMET\tBREACHED\tOVERDUE\tWAITING\tUNANSWERED\tNO TARGET\tATTAINMENT\tMEDIAN\tP90")
				row := func(l helpdesk.SLALine) {
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%s\t%s\n", l.Group, l.Cases, l.Met, l.Breached, l.Overdue,
						l.Waiting, l.Unanswered, l.NoTarget, reportPct(l.Attainment), reportAge(l.MedianSeconds), reportAge(l.P90Seconds))
				}
				for _, l := range rep.BySeverity {
					row(l)
				}
				fmt.Fprintln(tw)
				for _, l := range rep.ByPlan {
					row(l)
				}
				fmt.Fprintln(tw)
				row(rep.Overall)
				return tw.Flush()
			})
		},
	}
}

func reportLoadCommand() *command {
	return &command{
		Name: "load", Usage: "open, pending and on-hold cases per agent, and the oldest open case", JSON: true,
		Help: `Every active agent and manager is listed, with no cases too, as is anyone
else with unsolved cases assigned (a disabled agent, marked so). The oldest
open case is the oldest waiting on support (status open).`,
		Run: func(ctx context.Context, inv *invocation) error {
			s, err := inv.openStore(ctx)
			if err != nil {
				return err
			}
			rows, err := helpdesk.LoadRows(ctx, s.DB())
			if err != nil {
				return err
			}
			rep := helpdesk.SummarizeLoad(rows, time.Now())
			return inv.print(rep, func(w io.Writer) error {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "AGENT\tOPEN\tPENDING\tON HOLD\tTOTAL\tOLDEST OPEN")
				row := func(name string, l helpdesk.LoadLine) {
					if l.Disabled {
						name += " (disabled)"
					}
					oldest := "-"
					if l.OldestOpenCase != nil {
						oldest = fmt.Sprintf("#%d, %s old", *l.OldestOpenCase, reportAge(l.OldestOpenAgeSeconds))
					}
					fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%s\n", name, l.Open, l.Pending, l.OnHold, l.Total, oldest)
				}
				for _, l := range rep.Agents {
					row(reportAgent(l.Agent), l)
				}
				row("(all)", rep.Total)
				return tw.Flush()
			})
		},
	}
}

func reportAgent(a string) string {
	if a == "" {
		return "(unassigned)"
	}
	return a
}

func reportPct(p *float64) string {
	if p == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", *p)
}

// reportAge writes seconds as 3d4h, 2h05m or 12m.
func reportAge(secs *int64) string {
	if secs == nil {
		return "-"
	}
	d := time.Duration(*secs) * time.Second
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%dd%dh", d/(24*time.Hour), d%(24*time.Hour)/time.Hour)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", d/time.Hour, d%time.Hour/time.Minute)
	default:
		return fmt.Sprintf("%dm", d/time.Minute)
	}
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

func writeJSON(w io.Writer, rep report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func writeText(w io.Writer, rep report) {
	fmt.Fprintf(w, "\nlogin load test against %s\n", rep.URL)
	for i, h := range rep.Hashes {
		when := "before the first level"
		if i > 0 {
			when = fmt.Sprintf("after level %d", i)
		}
		fmt.Fprintf(w, "raw argon2id %s: %.1f hashes/s on %d cores, %.1f hashes/s on one (%.1f ms a hash)\n",
			when, h.AllRate, h.Workers, h.SingleRate, 1000/h.SingleRate)
	}
	if rep.Server != nil {
		fmt.Fprintf(w, "server PID %d, idle RSS %.1f MiB before the first level\n", rep.Server.PID, rep.Server.IdleRSSMiB)
	}
	fmt.Fprintln(w)

	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "clients\trequests\tlogins\tlogins/s\thash ref/s\tdrift %\tratio\tp50 ms\tp90 ms\tp99 ms\tmax ms\t"+
		"cpu ms/login\tbeyond hash ms\tbeyond busy hash ms\tdb cpu ms/login\tmachine cpu ms/login\tidle %\tsteal %\t"+
		"idle MiB\tpeak MiB\tHWM MiB\t")
	for _, l := range rep.Levels {
		fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%s\t%s\t%s\t%.0f\t%.0f\t%.0f\t%.0f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n",
			l.Clients, l.Requests, l.Logins, l.LoginsPerSec, opt(l.HashRef, "%.1f"), opt(l.HashDriftPct, "%.0f"), opt(l.Ratio, "%.2f"),
			l.P50Ms, l.P90Ms, l.P99Ms, l.MaxMs,
			opt(l.CPUMsPerLogin, "%.1f"), opt(l.CPUBeyondHashMs, "%.1f"), opt(l.CPUBeyondBusyHashMs, "%.1f"),
			opt(l.DBCPUMsPerLogin, "%.1f"), opt(l.MachineCPUMsPerLogin, "%.1f"), opt(l.MachineIdlePct, "%.0f"), opt(l.MachineStealPct, "%.0f"),
			opt(l.IdleRSSMiB, "%.1f"), opt(l.PeakRSSMiB, "%.1f"), opt(l.HWMMiB, "%.1f"))
	}
	tw.Flush()

	for _, l := range rep.Levels {
		if len(l.Errors) == 0 {
			continue
		}
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(l.Errors)) {
			parts = append(parts, fmt.Sprintf("%s: %d", k, l.Errors[k]))
		}
		fmt.Fprintf(w, "errors at %d clients: %s\n  first: %s\n", l.Clients, strings.Join(parts, ", "), l.ErrorSample)
	}
	fmt.Fprintln(w, "\nhash ref = the mean all-cores raw hash rate just before and just after the level;")
	fmt.Fprintln(w, "drift = how far apart those two were, in % of their mean (the machine's own drift);")
	fmt.Fprintln(w, "ratio = logins/s ÷ hash ref; latency is of successful logins;")
	fmt.Fprintln(w, "cpu = the server's CPU per login; beyond hash = that minus one single-core hash;")
	fmt.Fprintln(w, "beyond busy hash = the same minus one hash's CPU while every core hashes (cores ÷ hash ref);")
	fmt.Fprintln(w, "db cpu = the database server's (-db-pid and its children); machine cpu = every busy CPU, this tool's too;")
	fmt.Fprintln(w, "idle % = the share of the machine's CPU time left idle during the level (iowait included);")
	fmt.Fprintln(w, "steal % = the share the hypervisor gave to other machines.")
}

func opt(v *float64, format string) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf(format, *v)
}

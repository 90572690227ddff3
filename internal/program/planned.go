package program

import (
	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// Planned lists what the stack's settings ask for, or could, that the
// program does not create, each with the settings it comes from: parts whose
// component is not built yet, and parts a setting leaves off. The program
// warns of them on every run and the offline preview prints them in its
// summary, so a setting that does nothing is never silent.
func Planned(cfg stackconfig.Settings) []string {
	var out []string
	if len(cfg.ReplicaRegions) > 0 && cfg.FailoverHostedZoneID == "" {
		out = append(out, "failover routing (failoverHostedZoneId is empty: replicas and alarms only)")
	}
	return out
}

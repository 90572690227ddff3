package program

import (
	"strings"

	"github.com/manga-assist/manga-assist-data/internal/stackconfig"
)

// Planned lists what the stack's settings ask for that the program does not
// create yet, each with the settings it comes from. The program warns of them
// on every run and the offline preview prints them in its summary, so a
// setting that does nothing yet is never silent. Remove an entry when the
// component that creates it lands.
func Planned(cfg stackconfig.Settings) []string {
	var out []string
	if len(cfg.ReplicaRegions) > 0 {
		out = append(out, "replicas in "+strings.Join(cfg.ReplicaRegions, ", ")+" (replicaRegions; GlobalTableFailover)")
	}
	out = append(out, "scheduled table exports "+cfg.IncrementalExportSchedule+" and "+cfg.FullExportSchedule+
		" (incrementalExportSchedule, fullExportSchedule; BackupSchedule)")
	return out
}

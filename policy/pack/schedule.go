package pack

import (
	"strings"

	cronschedule "github.com/manga-assist/manga-assist-data/internal/schedule"
)

// AWS Backup rule schedules. A rule's ScheduleExpression is an EventBridge
// style cron expression, cron(Minutes Hours Day-of-month Month Day-of-week
// Year) in UTC or the rule's ScheduleExpressionTimezone (AWS Backup
// Developer Guide, API_BackupRule: "ScheduleExpression ... For more
// information about AWS cron expressions, see Schedule Expressions for
// Rules"; EventBridge User Guide, "Cron expressions": six fields, one of
// Day-of-month and Day-of-week must be "?", wildcards , - * ? / L W #).
// AWS Backup documents cron only; a rate(...) expression, which EventBridge
// accepts, is read as well so that it is judged by its interval rather than
// refused. When a rule has no expression, AWS Backup uses
// cron(0 5 ? * * *), daily at 05:00 UTC (API_BackupRule, ScheduleExpression).

// defaultBackupSchedule is what AWS Backup runs a rule on when it sets none.
const defaultBackupSchedule = "cron(0 5 ? * * *)"

// runsDaily tells whether a schedule expression starts a backup on every
// day, or more often; err says why AWS Backup would not take it. The
// grammar is internal/schedule's, the one the stack settings use.
func runsDaily(expr string) (bool, error) {
	return cronschedule.RunsDaily(strings.TrimSpace(expr))
}

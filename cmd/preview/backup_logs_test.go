package main

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/preview"
	"github.com/manga-assist/manga-assist-data/internal/program"
)

// Issue 14, log-group-retention: the backup orchestrator's log group is
// encrypted with the BackupSchedule's key, whose policy lets CloudWatch Logs
// of the stack's region use it for that log group alone (CloudWatch Logs
// User Guide, "Encrypt log data in CloudWatch Logs using AWS KMS"), and
// still hands the key to the account's IAM, as the default policy did.
func TestBackupOrchestratorLogsKeyPolicy(t *testing.T) {
	for _, stack := range []string{"dev", "prod"} {
		t.Run(stack, func(t *testing.T) {
			sc, err := preview.LoadStackConfig(projectDir, stack)
			require.NoError(t, err)
			result, err := preview.Run(program.Run, sc.Project, stack, "us-east-1", sc.Values)
			require.NoError(t, err)
			byName := map[string]preview.Resource{}
			for _, r := range result.Resources {
				byName[r.Type+" "+r.Name] = r
			}
			logs, ok := byName["aws:cloudwatch/logGroup:LogGroup backups-orchestrator"]
			require.True(t, ok)
			key, ok := byName["aws:kms/key:Key backups-key"]
			require.True(t, ok)
			assert.Equal(t, "arn:aws:kms:us-east-1:"+preview.Account+":key/"+key.ID, logs.Inputs["kmsKeyId"])

			var doc struct {
				Statement []struct {
					Sid       string
					Principal map[string]string
					Action    any
					Condition map[string]map[string]string
				}
			}
			require.NoError(t, json.Unmarshal([]byte(key.Inputs["policy"].(string)), &doc))
			sids := map[string]int{}
			for i, st := range doc.Statement {
				sids[st.Sid] = i
			}
			require.Contains(t, sids, "AccountIAM")
			require.Contains(t, sids, "CloudWatchLogsEncrypt")
			assert.Equal(t, map[string]string{"AWS": "arn:aws:iam::" + preview.Account + ":root"}, doc.Statement[sids["AccountIAM"]].Principal)
			logsStatement := doc.Statement[sids["CloudWatchLogsEncrypt"]]
			assert.Equal(t, map[string]string{"Service": "logs.us-east-1.amazonaws.com"}, logsStatement.Principal)
			assert.Equal(t, map[string]map[string]string{"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:" +
				preview.Account + ":log-group:" + logs.Inputs["name"].(string)}}, logsStatement.Condition)
		})
	}
}

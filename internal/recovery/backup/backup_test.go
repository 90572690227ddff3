package backup_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsbackup "github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/recovery/backup"
	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

const point = "arn:aws:backup:us-east-1:123456789012:recovery-point:1EB3B5E7-9EB0-435A-A80B-108B488B0D45"

// fakeBackup plays AWS Backup (moto has no StartRestoreJob): the job
// "creates" the table in moto and completes on the second look.
type fakeBackup struct {
	t       *testing.T
	ddb     *dynamodb.Client
	started []*awsbackup.StartRestoreJobInput
	looks   int
}

func (f *fakeBackup) GetRecoveryPointRestoreMetadata(_ context.Context, in *awsbackup.GetRecoveryPointRestoreMetadataInput, _ ...func(*awsbackup.Options)) (*awsbackup.GetRecoveryPointRestoreMetadataOutput, error) {
	assert.Equal(f.t, "vault", aws.ToString(in.BackupVaultName))
	return &awsbackup.GetRecoveryPointRestoreMetadataOutput{RestoreMetadata: map[string]string{"targetTableName": "manga-assist-sessions", "encryptionType": "Default"}}, nil
}

func (f *fakeBackup) StartRestoreJob(ctx context.Context, in *awsbackup.StartRestoreJobInput, _ ...func(*awsbackup.Options)) (*awsbackup.StartRestoreJobOutput, error) {
	f.started = append(f.started, in)
	require.NoError(f.t, table.CreateSessionsTable(ctx, f.ddb, in.Metadata["targetTableName"]))
	return &awsbackup.StartRestoreJobOutput{RestoreJobId: aws.String("job-1")}, nil
}

func (f *fakeBackup) DescribeRestoreJob(_ context.Context, in *awsbackup.DescribeRestoreJobInput, _ ...func(*awsbackup.Options)) (*awsbackup.DescribeRestoreJobOutput, error) {
	f.looks++
	status := backuptypes.RestoreJobStatusRunning
	if f.looks > 1 {
		status = backuptypes.RestoreJobStatusCompleted
	}
	return &awsbackup.DescribeRestoreJobOutput{RestoreJobId: in.RestoreJobId, Status: status}, nil
}

func TestRecoveryPoint(t *testing.T) {
	emu := emulator.New(t)
	ddb := emu.DynamoDB()
	bk := &fakeBackup{t: t, ddb: ddb}
	dir := t.TempDir()
	cp, _, err := checkpoint.Open(dir, []string{"backup", point, "restored"})
	require.NoError(t, err)
	opts := backup.Options{BackupArn: point, Target: "restored", Vault: "vault", IAMRoleArn: "arn:aws:iam::123456789012:role/backup",
		Checkpoint: cp, Progress: progress.Options{Quiet: true}, PollInterval: time.Millisecond}
	rep, err := backup.Restore(t.Context(), ddb, bk, opts)
	require.NoError(t, err)
	require.Len(t, bk.started, 1)
	in := bk.started[0]
	assert.Equal(t, "restored", in.Metadata["targetTableName"], "the metadata from GetRecoveryPointRestoreMetadata, with our table")
	assert.Equal(t, "Default", in.Metadata["encryptionType"])
	assert.Equal(t, "DynamoDB", aws.ToString(in.ResourceType))
	assert.Equal(t, opts.IAMRoleArn, aws.ToString(in.IamRoleArn))
	assert.NotEmpty(t, aws.ToString(in.IdempotencyToken))
	assert.Equal(t, "job-1", rep.RestoreJob)
	assert.Equal(t, "aws-backup", rep.Kind)
	assert.Contains(t, rep.Reapplied, "deletion protection", "no source table: the sessions defaults")

	// Run again: the job from the checkpoint is waited on, not started twice.
	_, err = backup.Restore(t.Context(), ddb, bk, opts)
	require.NoError(t, err)
	assert.Len(t, bk.started, 1)

	_, err = backup.Restore(t.Context(), ddb, bk, backup.Options{BackupArn: point, Target: "other", Progress: progress.Options{Quiet: true}})
	assert.ErrorContains(t, err, "--backup-vault and --iam-role-arn")
}

func TestParseARN(t *testing.T) {
	k, err := backup.ParseARN("arn:aws:dynamodb:us-east-1:123456789012:table/t/backup/01795866851684-1bf61233")
	require.NoError(t, err)
	assert.Equal(t, backup.DynamoDBBackup, k)
	k, err = backup.ParseARN(point)
	require.NoError(t, err)
	assert.Equal(t, backup.RecoveryPoint, k)
	_, err = backup.ParseARN("not-an-arn")
	assert.ErrorContains(t, err, `--backup-arn "not-an-arn" is not an ARN`)
}

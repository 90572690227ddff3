// Package backup restores a table from a backup, waits for it, and then
// re-applies what a restore does not carry over.
//
// Two kinds of backup ARN exist (AWS Backup Developer Guide, "Restore an
// Amazon DynamoDB table"): arn:aws:dynamodb:…:table/T/backup/… is managed by
// DynamoDB (on-demand backups, and AWS Backup's backups without advanced
// features) and restored with RestoreTableFromBackup; arn:aws:backup:…:
// recovery-point:… is fully managed by AWS Backup and restored with AWS
// Backup's StartRestoreJob, which needs the vault and a role AWS Backup
// assumes.
//
// A restored table lacks the source's stream, TTL, PITR, auto scaling, tags,
// alarms and IAM policies (DynamoDB API Reference, RestoreTableToPointInTime
// and RestoreTableFromBackup: "You must manually set up the following on the
// restored table"); Reapply sets the stream, TTL, PITR, deletion protection
// and tags from the production table's current settings.
package backup

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/arn"
	awsbackup "github.com/aws/aws-sdk-go-v2/service/backup"
	backuptypes "github.com/aws/aws-sdk-go-v2/service/backup/types"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/manga-assist/manga-assist-data/internal/recovery/checkpoint"
	"github.com/manga-assist/manga-assist-data/internal/recovery/progress"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// DynamoDB is the part of the client a backup restore uses.
type DynamoDB interface {
	table.DynamoDB
	RestoreTableFromBackup(ctx context.Context, in *dynamodb.RestoreTableFromBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.RestoreTableFromBackupOutput, error)
	DescribeBackup(ctx context.Context, in *dynamodb.DescribeBackupInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeBackupOutput, error)
	ListBackups(ctx context.Context, in *dynamodb.ListBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ListBackupsOutput, error)
	DescribeContinuousBackups(ctx context.Context, in *dynamodb.DescribeContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeContinuousBackupsOutput, error)
	UpdateContinuousBackups(ctx context.Context, in *dynamodb.UpdateContinuousBackupsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateContinuousBackupsOutput, error)
	DescribeTimeToLive(ctx context.Context, in *dynamodb.DescribeTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTimeToLiveOutput, error)
	UpdateTimeToLive(ctx context.Context, in *dynamodb.UpdateTimeToLiveInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTimeToLiveOutput, error)
	UpdateTable(ctx context.Context, in *dynamodb.UpdateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateTableOutput, error)
	TagResource(ctx context.Context, in *dynamodb.TagResourceInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TagResourceOutput, error)
}

// Backup is the part of the AWS Backup client used for recovery points.
type Backup interface {
	StartRestoreJob(ctx context.Context, in *awsbackup.StartRestoreJobInput, optFns ...func(*awsbackup.Options)) (*awsbackup.StartRestoreJobOutput, error)
	DescribeRestoreJob(ctx context.Context, in *awsbackup.DescribeRestoreJobInput, optFns ...func(*awsbackup.Options)) (*awsbackup.DescribeRestoreJobOutput, error)
	GetRecoveryPointRestoreMetadata(ctx context.Context, in *awsbackup.GetRecoveryPointRestoreMetadataInput, optFns ...func(*awsbackup.Options)) (*awsbackup.GetRecoveryPointRestoreMetadataOutput, error)
}

// Kind of backup ARN.
type Kind int

const (
	DynamoDBBackup Kind = iota // arn:aws:dynamodb:…:table/T/backup/…
	RecoveryPoint              // arn:aws:backup:…:recovery-point:…
)

// ParseARN tells which kind of backup arnStr names.
func ParseARN(arnStr string) (Kind, error) {
	a, err := arn.Parse(arnStr)
	switch {
	case err != nil:
		return 0, fmt.Errorf("--backup-arn %q is not an ARN", arnStr)
	case a.Service == "dynamodb" && strings.Contains(a.Resource, "/backup/"):
		return DynamoDBBackup, nil
	case a.Service == "backup" && strings.HasPrefix(a.Resource, "recovery-point:"):
		return RecoveryPoint, nil
	}
	return 0, fmt.Errorf("--backup-arn %q is neither a DynamoDB backup (arn:aws:dynamodb:…:table/T/backup/…) nor an AWS Backup recovery point (arn:aws:backup:…:recovery-point:…)", arnStr)
}

// Options of a restore.
type Options struct {
	BackupArn string
	Target    string
	// SettingsFrom is the table whose stream, TTL, PITR, deletion protection
	// and tags the restored table gets; "" takes the backup's source table
	// when it still exists, else the sessions table's defaults.
	SettingsFrom string
	// Vault and IAMRoleArn are needed for AWS Backup recovery points.
	Vault, IAMRoleArn string
	Checkpoint        *checkpoint.File
	Progress          progress.Options
	PollInterval      time.Duration // default 15 s
}

// Report is what a backup restore did.
type Report struct {
	BackupArn   string   `json:"backup_arn"`
	Kind        string   `json:"kind"`
	Target      string   `json:"target"`
	RestoreJob  string   `json:"restore_job,omitempty"`
	WaitSeconds float64  `json:"wait_seconds"`
	Count       int64    `json:"count"`
	Settings    string   `json:"settings_from"`
	Reapplied   []string `json:"reapplied"`
}

// Restore restores the backup into a new table and re-applies settings.
func Restore(ctx context.Context, ddb DynamoDB, bk Backup, opts Options) (Report, error) {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 15 * time.Second
	}
	rep := Report{BackupArn: opts.BackupArn, Target: opts.Target}
	kind, err := ParseARN(opts.BackupArn)
	if err != nil {
		return rep, err
	}
	existing, err := table.Describe(ctx, ddb, opts.Target)
	if err != nil {
		return rep, err
	}
	ours := opts.Checkpoint != nil && opts.Checkpoint.Value("restore-started") == opts.Target
	if existing != nil && !ours {
		return rep, fmt.Errorf("--to %s already exists: a restore creates a new table; choose another name", opts.Target)
	}
	start := time.Now()
	source := ""
	switch kind {
	case DynamoDBBackup:
		rep.Kind = "dynamodb"
		d, err := ddb.DescribeBackup(ctx, &dynamodb.DescribeBackupInput{BackupArn: aws.String(opts.BackupArn)})
		if err != nil {
			return rep, fmt.Errorf("--backup-arn %s: %w", opts.BackupArn, err)
		}
		source = aws.ToString(d.BackupDescription.SourceTableDetails.TableName)
		if existing == nil {
			progress.Logf(opts.Progress, "restoring backup %s of %s into %s", opts.BackupArn, source, opts.Target)
			if _, err := ddb.RestoreTableFromBackup(ctx, &dynamodb.RestoreTableFromBackupInput{
				BackupArn: aws.String(opts.BackupArn), TargetTableName: aws.String(opts.Target),
			}); err != nil {
				return rep, fmt.Errorf("restore %s into %s: %w", opts.BackupArn, opts.Target, err)
			}
		}
	case RecoveryPoint:
		rep.Kind = "aws-backup"
		if opts.Vault == "" || opts.IAMRoleArn == "" {
			return rep, fmt.Errorf("--backup-arn %s is an AWS Backup recovery point: --backup-vault and --iam-role-arn (the role AWS Backup assumes to restore) are required", opts.BackupArn)
		}
		if rep.RestoreJob, err = startRecoveryPoint(ctx, bk, opts); err != nil {
			return rep, err
		}
	}
	if opts.Checkpoint != nil {
		if err := opts.Checkpoint.SetValue("restore-started", opts.Target); err != nil {
			return rep, err
		}
	}
	meter := progress.Start(opts.Progress, "restoring "+opts.Target, "polls", 0)
	if rep.RestoreJob != "" {
		err = waitJob(ctx, bk, rep.RestoreJob, opts.PollInterval, meter)
	}
	if err == nil {
		_, err = table.WaitActive(ctx, ddb, opts.Target, opts.PollInterval, func(string) { meter.Add(1) })
	}
	meter.Done()
	if err != nil {
		return rep, err
	}
	rep.WaitSeconds = time.Since(start).Seconds()

	settingsFrom := opts.SettingsFrom
	if settingsFrom == "" && source != "" {
		if t, err := table.Describe(ctx, ddb, source); err == nil && t != nil {
			settingsFrom = source
		}
	}
	var s Settings
	if settingsFrom == "" {
		rep.Settings = "sessions table defaults (the source table is gone)"
		s = Defaults()
	} else {
		rep.Settings = settingsFrom
		if s, err = Read(ctx, ddb, settingsFrom); err != nil {
			return rep, err
		}
	}
	if rep.Reapplied, err = Reapply(ctx, ddb, opts.Target, s); err != nil {
		return rep, err
	}
	rep.Count, err = table.Count(ctx, ddb, opts.Target, 4)
	return rep, err
}

func startRecoveryPoint(ctx context.Context, bk Backup, opts Options) (string, error) {
	if opts.Checkpoint != nil {
		if id := opts.Checkpoint.Value("restore-job"); id != "" {
			return id, nil
		}
	}
	// StartRestoreJob: "You can get configuration metadata about a resource
	// at the time it was backed up by calling GetRecoveryPointRestoreMetadata".
	md, err := bk.GetRecoveryPointRestoreMetadata(ctx, &awsbackup.GetRecoveryPointRestoreMetadataInput{
		BackupVaultName: aws.String(opts.Vault), RecoveryPointArn: aws.String(opts.BackupArn),
	})
	if err != nil {
		return "", fmt.Errorf("--backup-arn %s in --backup-vault %s: %w", opts.BackupArn, opts.Vault, err)
	}
	meta := maps.Clone(md.RestoreMetadata)
	if meta == nil {
		meta = map[string]string{}
	}
	nameKey := "targetTableName"
	if _, ok := meta["TargetTableName"]; ok {
		nameKey = "TargetTableName"
	}
	meta[nameKey] = opts.Target
	token := "recover-" + checkpoint.Key([]string{opts.BackupArn, opts.Target})
	out, err := bk.StartRestoreJob(ctx, &awsbackup.StartRestoreJobInput{
		RecoveryPointArn: aws.String(opts.BackupArn),
		IamRoleArn:       aws.String(opts.IAMRoleArn),
		Metadata:         meta,
		ResourceType:     aws.String("DynamoDB"),
		IdempotencyToken: aws.String(token),
	})
	if err != nil {
		return "", fmt.Errorf("start restore job of %s: %w", opts.BackupArn, err)
	}
	id := aws.ToString(out.RestoreJobId)
	if opts.Checkpoint != nil {
		if err := opts.Checkpoint.SetValue("restore-job", id); err != nil {
			return "", err
		}
	}
	return id, nil
}

func waitJob(ctx context.Context, bk Backup, id string, every time.Duration, meter *progress.Meter) error {
	for {
		out, err := bk.DescribeRestoreJob(ctx, &awsbackup.DescribeRestoreJobInput{RestoreJobId: aws.String(id)})
		if err != nil {
			return fmt.Errorf("describe restore job %s: %w", id, err)
		}
		meter.Add(1)
		switch out.Status {
		case backuptypes.RestoreJobStatusCompleted:
			return nil
		case backuptypes.RestoreJobStatusAborted, backuptypes.RestoreJobStatusFailed:
			return fmt.Errorf("restore job %s %s: %s", id, out.Status, aws.ToString(out.StatusMessage))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

// Latest returns the newest AVAILABLE backup of a table (on-demand or AWS
// Backup's DynamoDB-managed ones; both are listed by ListBackups).
func Latest(ctx context.Context, ddb DynamoDB, tableName string) (string, error) {
	in := &dynamodb.ListBackupsInput{TableName: aws.String(tableName), BackupType: types.BackupTypeFilterAll}
	var best *types.BackupSummary
	for {
		out, err := ddb.ListBackups(ctx, in)
		if err != nil {
			return "", fmt.Errorf("list backups of %s: %w", tableName, err)
		}
		for i, b := range out.BackupSummaries {
			if b.BackupStatus != types.BackupStatusAvailable {
				continue
			}
			if best == nil || aws.ToTime(b.BackupCreationDateTime).After(aws.ToTime(best.BackupCreationDateTime)) {
				best = &out.BackupSummaries[i]
			}
		}
		if out.LastEvaluatedBackupArn == nil {
			break
		}
		in.ExclusiveStartBackupArn = out.LastEvaluatedBackupArn
	}
	if best == nil {
		return "", fmt.Errorf("--backup latest: %s has no available backup", tableName)
	}
	return aws.ToString(best.BackupArn), nil
}

// Settings are what Reapply sets.
type Settings struct {
	StreamView         types.StreamViewType // "" = no stream
	TTLAttribute       string               // "" = TTL off
	PITR               bool
	PITRDays           int32
	DeletionProtection bool
	Tags               map[string]string
}

// Defaults are the sessions table's settings as the SessionsTable
// component declares them (used when the source table is gone).
func Defaults() Settings {
	return Settings{StreamView: types.StreamViewType(sessions.StreamViewType), PITR: true, PITRDays: 35, DeletionProtection: true}
}

// Read takes the settings of an existing table.
func Read(ctx context.Context, ddb DynamoDB, name string) (Settings, error) {
	var s Settings
	t, err := table.Describe(ctx, ddb, name)
	if err != nil {
		return s, err
	}
	if t == nil {
		return s, fmt.Errorf("--settings-from %s: no such table", name)
	}
	if t.StreamSpecification != nil && aws.ToBool(t.StreamSpecification.StreamEnabled) {
		s.StreamView = t.StreamSpecification.StreamViewType
	}
	s.DeletionProtection = aws.ToBool(t.DeletionProtectionEnabled)
	ttl, err := ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
	if err != nil {
		return s, fmt.Errorf("describe TTL of %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && (d.TimeToLiveStatus == types.TimeToLiveStatusEnabled || d.TimeToLiveStatus == types.TimeToLiveStatusEnabling) {
		s.TTLAttribute = aws.ToString(d.AttributeName)
	}
	cb, err := ddb.DescribeContinuousBackups(ctx, &dynamodb.DescribeContinuousBackupsInput{TableName: aws.String(name)})
	if err != nil {
		return s, fmt.Errorf("describe continuous backups of %s: %w", name, err)
	}
	if p := cb.ContinuousBackupsDescription.PointInTimeRecoveryDescription; p != nil && p.PointInTimeRecoveryStatus == types.PointInTimeRecoveryStatusEnabled {
		s.PITR, s.PITRDays = true, aws.ToInt32(p.RecoveryPeriodInDays)
	}
	if s.Tags, err = table.Tags(ctx, ddb, aws.ToString(t.TableArn)); err != nil {
		return s, err
	}
	return s, nil
}

// Reapply gives target the settings s, skipping what it has already, and
// lists what it changed. It is safe to run again.
func Reapply(ctx context.Context, ddb DynamoDB, target string, s Settings) ([]string, error) {
	var done []string
	t, err := table.Describe(ctx, ddb, target)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, fmt.Errorf("reapply settings: %s does not exist", target)
	}
	if s.StreamView != "" && (t.StreamSpecification == nil || !aws.ToBool(t.StreamSpecification.StreamEnabled)) {
		if _, err := ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(target),
			StreamSpecification: &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: s.StreamView}}); err != nil {
			return done, fmt.Errorf("enable the stream of %s: %w", target, err)
		}
		done = append(done, "stream "+string(s.StreamView))
		if _, err := table.WaitActive(ctx, ddb, target, time.Second, nil); err != nil {
			return done, err
		}
	}
	if s.TTLAttribute != "" {
		if _, err := ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{TableName: aws.String(target),
			TimeToLiveSpecification: &types.TimeToLiveSpecification{AttributeName: aws.String(s.TTLAttribute), Enabled: aws.Bool(true)}}); err != nil {
			var ve interface{ ErrorMessage() string }
			if !errors.As(err, &ve) || !strings.Contains(strings.ToLower(ve.ErrorMessage()), "already enabled") {
				return done, fmt.Errorf("enable TTL on %s: %w", target, err)
			}
		}
		done = append(done, "TTL on "+s.TTLAttribute)
	}
	if s.PITR {
		spec := &types.PointInTimeRecoverySpecification{PointInTimeRecoveryEnabled: aws.Bool(true)}
		if s.PITRDays > 0 {
			spec.RecoveryPeriodInDays = aws.Int32(s.PITRDays)
		}
		if _, err := ddb.UpdateContinuousBackups(ctx, &dynamodb.UpdateContinuousBackupsInput{TableName: aws.String(target),
			PointInTimeRecoverySpecification: spec}); err != nil {
			return done, fmt.Errorf("enable PITR on %s: %w", target, err)
		}
		done = append(done, fmt.Sprintf("PITR %d days", s.PITRDays))
	}
	if s.DeletionProtection && !aws.ToBool(t.DeletionProtectionEnabled) {
		if _, err := ddb.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: aws.String(target), DeletionProtectionEnabled: aws.Bool(true)}); err != nil {
			return done, fmt.Errorf("turn on deletion protection of %s: %w", target, err)
		}
		done = append(done, "deletion protection")
	}
	var tags []types.Tag
	for k, v := range s.Tags {
		if strings.HasPrefix(k, "aws:") { // reserved: AWS sets these itself
			continue
		}
		tags = append(tags, types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	if len(tags) > 0 {
		if _, err := ddb.TagResource(ctx, &dynamodb.TagResourceInput{ResourceArn: t.TableArn, Tags: tags}); err != nil {
			return done, fmt.Errorf("tag %s: %w", target, err)
		}
		done = append(done, fmt.Sprintf("%d tag(s)", len(tags)))
	}
	return done, nil
}

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/emulator"
	"github.com/manga-assist/manga-assist-data/internal/recovery/drill"
	"github.com/manga-assist/manga-assist-data/internal/recovery/exporttest"
	"github.com/manga-assist/manga-assist-data/internal/recovery/table"
)

func TestMain(m *testing.M) { os.Exit(emulator.Main(m)) }

func TestNewVerifierNeedsARegion(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{"AWS_REGION": "", "AWS_DEFAULT_REGION": "", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "c"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "c")} {
		t.Setenv(k, v)
	}
	_, err := newVerifier(t.Context())
	assert.ErrorContains(t, err, "AWS_REGION is not set")
	t.Setenv("AWS_REGION", "us-east-1")
	_, err = newVerifier(t.Context())
	require.NoError(t, err)
}

// The handler against moto: a faithful scratch table passes and a drifted
// one fails, each with one EMF line carrying DrillFailed and RTOSeconds.
func TestVerify(t *testing.T) {
	emu := emulator.New(t)
	ddb := emu.DynamoDB()
	ctx := t.Context()
	for _, name := range []string{"src", "src-drill-1"} {
		require.NoError(t, table.CreateSessionsTable(ctx, ddb, name))
		for _, it := range exporttest.Session("v", 6) {
			_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(name), Item: it})
			require.NoError(t, err)
		}
	}
	var metrics bytes.Buffer
	now := time.Date(2026, 12, 1, 4, 30, 0, 0, time.UTC)
	v := drill.Verifier{DynamoDB: ddb, Metrics: &metrics, Now: func() time.Time { return now }}
	req := drill.VerifyRequest{SourceTable: "src", ScratchTable: "src-drill-1", Sample: 50, Started: now.Add(-25 * time.Minute)}
	res, err := v.Handle(ctx, req)
	require.NoError(t, err)
	assert.True(t, res.Passed)
	assert.Equal(t, 1500.0, res.RTOSeconds)
	var line map[string]any
	require.NoError(t, json.Unmarshal(metrics.Bytes(), &line))
	assert.EqualValues(t, 0, line[drill.MetricFailed])
	assert.EqualValues(t, 1500, line[drill.MetricRTO])
	assert.Equal(t, "src", line[drill.MetricDimension])

	// Every item of the source changes: the sample drifts beyond tolerance.
	out, err := ddb.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String("src")})
	require.NoError(t, err)
	for _, it := range out.Items {
		_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("src"), Item: exporttest.With(it, "x", &types.AttributeValueMemberN{Value: "1"})})
		require.NoError(t, err)
	}
	metrics.Reset()
	res, err = v.Handle(ctx, req)
	require.NoError(t, err)
	assert.False(t, res.Passed)
	assert.NotEmpty(t, res.Mismatches)
	require.NoError(t, json.Unmarshal(metrics.Bytes(), &line))
	assert.EqualValues(t, 1, line[drill.MetricFailed])

	_, err = v.Handle(ctx, drill.VerifyRequest{SourceTable: "src"})
	assert.ErrorContains(t, err, "scratch_table are required")
}

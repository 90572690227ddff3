package main

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// lambdaEnv sets what Lambda sets, and isolates the test from the machine's
// own AWS configuration.
func lambdaEnv(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"KINESIS_STREAM_NAME":         "manga-assist-events",
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY":       "secret",
		"AWS_SESSION_TOKEN":           "token",
		"AWS_CONFIG_FILE":             filepath.Join(dir, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_PROFILE":                 "",
		"AWS_DEFAULT_REGION":          "",
	} {
		t.Setenv(k, v)
	}
}

func TestNewRouter(t *testing.T) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))

	lambdaEnv(t)
	r, err := newRouter(t.Context(), logger)
	require.NoError(t, err)
	assert.NotNil(t, r)

	t.Setenv("KINESIS_STREAM_NAME", "")
	_, err = newRouter(t.Context(), logger)
	assert.ErrorContains(t, err, "KINESIS_STREAM_NAME is not set")

	lambdaEnv(t)
	t.Setenv("AWS_REGION", "")
	_, err = newRouter(t.Context(), logger)
	assert.ErrorContains(t, err, "AWS_REGION is not set")
}

// The router's metrics carry the function's name, which the component's
// undelivered-events alarm names as its dimension.
func TestMetricsNameTheFunction(t *testing.T) {
	lambdaEnv(t)
	t.Setenv("AWS_LAMBDA_FUNCTION_NAME", "manga-assist-stream-router-prod")
	cfg, err := routerConfig(t.Context(), slog.New(slog.NewJSONHandler(io.Discard, nil)))
	require.NoError(t, err)
	assert.Equal(t, "manga-assist-stream-router-prod", cfg.FunctionName)
}

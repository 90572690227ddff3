package awsenv_test

import (
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/internal/recovery/awsenv"
)

func isolate(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_PROFILE": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "none"),
		"AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_S3": "", "AWS_DEFAULT_REGION": "",
	} {
		t.Setenv(k, v)
	}
}

// With AWS_ENDPOINT_URL set, S3 uses path-style addressing: an emulator or
// a private endpoint has no per-bucket DNS names.
func TestEndpointFromTheEnvironmentMeansPathStyle(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_ENDPOINT_URL", "http://localhost:4566")
	c, err := awsenv.Load(t.Context())
	require.NoError(t, err)
	assert.Equal(t, "http://localhost:4566", c.Endpoint)
	assert.True(t, c.S3.Options().UsePathStyle)
	assert.Equal(t, "http://localhost:4566", aws.ToString(c.DynamoDB.Options().BaseEndpoint))
	assert.Equal(t, "us-east-1", c.Region)
}

func TestAWSItselfMeansVirtualHosted(t *testing.T) {
	isolate(t)
	c, err := awsenv.Load(t.Context())
	require.NoError(t, err)
	assert.Empty(t, c.Endpoint)
	assert.False(t, c.S3.Options().UsePathStyle)
}

func TestNoRegionIsAnError(t *testing.T) {
	isolate(t)
	t.Setenv("AWS_REGION", "")
	_, err := awsenv.Load(t.Context())
	assert.ErrorContains(t, err, "set AWS_REGION")
}

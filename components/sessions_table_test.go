package components_test

import (
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/manga-assist/manga-assist-data/components"
	"github.com/manga-assist/manga-assist-data/internal/preview"
)

func TestSessionsTableDefaults(t *testing.T) {
	var out resolved
	result := run(t, func(ctx *pulumi.Context) error {
		table, err := components.NewSessionsTable(ctx, "sessions", &components.SessionsTableArgs{
			Tags: map[string]string{"project": "manga-assist-data", "environment": "unit"},
		})
		if err != nil {
			return err
		}
		out.capture("tableName", table.TableName)
		out.capture("tableArn", table.TableArn)
		out.capture("streamArn", table.StreamArn)
		out.capture("kmsKeyArn", table.KMSKeyArn)
		return nil
	})

	component := one(t, result, "manga-assist:data:SessionsTable")
	assert.Equal(t, result.StackURN(), component.Parent)

	table := one(t, result, "aws:dynamodb/table:Table")
	key := one(t, result, "aws:kms/key:Key")
	alias := one(t, result, "aws:kms/alias:Alias")
	for _, child := range []preview.Resource{table, key, alias} {
		assert.Equal(t, component.URN, child.Parent, "%s is parented to the component", child.Name)
	}

	in := table.Inputs
	assert.Equal(t, "manga-assist-sessions", in["name"])
	assert.Equal(t, "PAY_PER_REQUEST", in["billingMode"])
	assert.Equal(t, "PK", in["hashKey"])
	assert.Equal(t, "SK", in["rangeKey"])
	assert.Equal(t, []any{
		map[string]any{"name": "PK", "type": "S"},
		map[string]any{"name": "SK", "type": "S"},
	}, in["attributes"])
	assert.Equal(t, true, in["streamEnabled"])
	assert.Equal(t, "NEW_AND_OLD_IMAGES", in["streamViewType"])
	assert.Equal(t, map[string]any{"enabled": true, "recoveryPeriodInDays": 35.0}, in["pointInTimeRecovery"])
	assert.Equal(t, true, in["deletionProtectionEnabled"], "deletion protection defaults to on")
	assert.NotContains(t, in, "ttl", "TTL is off unless an attribute is named")

	sse := in["serverSideEncryption"].(map[string]any)
	assert.Equal(t, true, sse["enabled"])
	assert.Regexp(t, `^arn:aws:kms:us-east-1:\d{12}:key/`, sse["kmsKeyArn"], "the table uses the created key")
	assert.Contains(t, table.Dependencies, key.URN)

	assert.Equal(t, true, key.Inputs["enableKeyRotation"])
	assert.Equal(t, 30.0, key.Inputs["deletionWindowInDays"])
	assert.Equal(t, false, key.Inputs["multiRegion"])
	assert.Equal(t, "alias/manga-assist-sessions", alias.Inputs["name"])

	wantTags := map[string]any{"project": "manga-assist-data", "environment": "unit", "component": "SessionsTable"}
	for _, child := range []preview.Resource{table, key} {
		assert.Equal(t, wantTags, child.Inputs["tags"], "tags on %s", child.Type)
	}

	assert.Equal(t, "manga-assist-sessions", out.get(t, "tableName"))
	assert.Equal(t, "arn:aws:dynamodb:us-east-1:123456789012:table/manga-assist-sessions", out.get(t, "tableArn"))
	assert.Regexp(t, `^arn:aws:dynamodb:us-east-1:123456789012:table/manga-assist-sessions/stream/`, out.get(t, "streamArn"))
	assert.Equal(t, sse["kmsKeyArn"], out.get(t, "kmsKeyArn"))
}

func TestSessionsTableSettings(t *testing.T) {
	const existingKey = "arn:aws:kms:us-east-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab"
	var out resolved
	result := run(t, func(ctx *pulumi.Context) error {
		table, err := components.NewSessionsTable(ctx, "sessions", &components.SessionsTableArgs{
			Name:               "sessions-dev",
			DeletionProtection: pulumi.BoolRef(false),
			PITRRecoveryDays:   7,
			TTLAttribute:       "expires_at",
			KMSKeyARN:          pulumi.String(existingKey),
			Tags:               map[string]string{"component": "not-allowed", "team": "data"},
		})
		if err != nil {
			return err
		}
		out.capture("kmsKeyArn", table.KMSKeyArn)
		return nil
	})

	assert.Empty(t, result.Find("aws:kms/key:Key"), "an existing key means no new key")
	assert.Empty(t, result.Find("aws:kms/alias:Alias"))
	in := one(t, result, "aws:dynamodb/table:Table").Inputs
	assert.Equal(t, "sessions-dev", in["name"])
	assert.Equal(t, false, in["deletionProtectionEnabled"])
	assert.Equal(t, 7.0, in["pointInTimeRecovery"].(map[string]any)["recoveryPeriodInDays"])
	assert.Equal(t, map[string]any{"attributeName": "expires_at", "enabled": true}, in["ttl"])
	assert.Equal(t, existingKey, in["serverSideEncryption"].(map[string]any)["kmsKeyArn"])
	assert.Equal(t, map[string]any{"component": "SessionsTable", "team": "data"}, in["tags"],
		"the component tag always names the component")
	assert.Equal(t, existingKey, out.get(t, "kmsKeyArn"))
}

func TestSessionsTableMultiRegionKey(t *testing.T) {
	result := run(t, func(ctx *pulumi.Context) error {
		_, err := components.NewSessionsTable(ctx, "sessions", &components.SessionsTableArgs{MultiRegionKey: true})
		return err
	})
	assert.Equal(t, true, one(t, result, "aws:kms/key:Key").Inputs["multiRegion"])
}

func TestSessionsTableRefusesBadArgs(t *testing.T) {
	cases := map[string]struct {
		args components.SessionsTableArgs
		want string
	}{
		"name":       {components.SessionsTableArgs{Name: "a/b"}, `SessionsTableArgs.Name "a/b"`},
		"pitr":       {components.SessionsTableArgs{PITRRecoveryDays: 40}, "SessionsTableArgs.PITRRecoveryDays 40: must be 1 to 35"},
		"pitr below": {components.SessionsTableArgs{PITRRecoveryDays: -1}, "SessionsTableArgs.PITRRecoveryDays -1"},
		"kms window": {components.SessionsTableArgs{KMSKeyDeletionWindowDays: 5}, "SessionsTableArgs.KMSKeyDeletionWindowDays 5: must be 7 to 30"},
		"ttl on key": {components.SessionsTableArgs{TTLAttribute: "PK"}, `SessionsTableArgs.TTLAttribute "PK"`},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := preview.Run(func(ctx *pulumi.Context) error {
				_, err := components.NewSessionsTable(ctx, "sessions", &c.args)
				return err
			}, "test", "unit", "us-east-1", nil)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestSessionsTableReportsEveryBadArgAtOnce(t *testing.T) {
	_, err := preview.Run(func(ctx *pulumi.Context) error {
		_, err := components.NewSessionsTable(ctx, "sessions", &components.SessionsTableArgs{
			Name: "x", PITRRecoveryDays: 99, KMSKeyDeletionWindowDays: 1})
		return err
	}, "test", "unit", "us-east-1", nil)
	require.Error(t, err)
	for _, want := range []string{`SessionsTableArgs.Name "x"`, "SessionsTableArgs.PITRRecoveryDays 99", "SessionsTableArgs.KMSKeyDeletionWindowDays 1"} {
		assert.Contains(t, err.Error(), want)
	}
}

package pack

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestKMSKeyHygiene(t *testing.T) {
	key := func(name string, props map[string]any) Resource {
		all := map[string]any{"enableKeyRotation": true, "deletionWindowInDays": 30, "description": name}
		for k, v := range props {
			all[k] = v
		}
		return res(typeKMSKey, name, all)
	}
	noRotation := key("no-rotation", map[string]any{"enableKeyRotation": nil})
	disabled := key("disabled", map[string]any{"isEnabled": false})
	bypass := key("bypass", map[string]any{"bypassPolicyLockoutSafetyCheck": true})
	short := key("short", map[string]any{"deletionWindowInDays": 7})
	replica := res(typeKMSReplicaKey, "replica", map[string]any{"primaryKeyArn": "arn:aws:kms:us-east-1:123456789012:key/mrk-1",
		"enabled": false, "deletionWindowInDays": 10})
	keyPolicy := res(typeKMSKeyPolicy, "policy", map[string]any{"keyId": "k", "policy": "{}", "bypassPolicyLockoutSafetyCheck": true})
	runCases(t, "kms-key-hygiene", "mandatory", []policyCase{
		{name: "compliant: rotating symmetric key, defaults, asymmetric and HMAC keys, external key store", resources: []Resource{
			key("rotating", nil),
			res(typeKMSKey, "defaults", map[string]any{"enableKeyRotation": true}),
			key("signing", map[string]any{"enableKeyRotation": false, "customerMasterKeySpec": "RSA_2048", "keyUsage": "SIGN_VERIFY"}),
			key("hmac", map[string]any{"enableKeyRotation": nil, "customerMasterKeySpec": "HMAC_256", "keyUsage": "GENERATE_VERIFY_MAC"}),
			key("xks", map[string]any{"enableKeyRotation": nil, "customKeyStoreId": "cks-1", "xksKeyId": "x"}),
			res(typeKMSReplicaKey, "replica", map[string]any{"primaryKeyArn": "arn:aws:kms:us-east-1:123456789012:key/mrk-1"}),
		}},
		{name: "no rotation", resources: []Resource{noRotation}, want: []expected{
			{noRotation.URN, "enableKeyRotation must be true, is not set"}}},
		{name: "disabled", resources: []Resource{disabled}, want: []expected{{disabled.URN, "isEnabled is false"}}},
		{name: "lockout check bypassed", resources: []Resource{bypass, keyPolicy}, want: []expected{
			{bypass.URN, "bypassPolicyLockoutSafetyCheck is true"},
			{keyPolicy.URN, "bypassPolicyLockoutSafetyCheck is true"},
		}},
		{name: "short deletion window", resources: []Resource{short}, want: []expected{
			{short.URN, "deletionWindowInDays is 7, below the minimum of 30"}}},
		{name: "disabled replica with a short window", resources: []Resource{replica}, want: []expected{
			{replica.URN, "enabled is false"}, {replica.URN, "deletionWindowInDays is 10, below the minimum of 30"}}},
		{name: "unknown values", resources: []Resource{
			key("a", map[string]any{"enableKeyRotation": unknown, "isEnabled": unknown, "deletionWindowInDays": unknown,
				"bypassPolicyLockoutSafetyCheck": unknown}),
			key("b", map[string]any{"enableKeyRotation": false, "customerMasterKeySpec": unknown}),
			key("c", map[string]any{"enableKeyRotation": false, "customKeyStoreId": unknown}),
			res(typeKMSReplicaKey, "d", map[string]any{"enabled": unknown, "deletionWindowInDays": unknown}),
		}},
	})
	cfg := DefaultConfig()
	cfg.MinKeyDeletionWindowDays = 7
	assert.Empty(t, violationsWith(t, cfg, "kms-key-hygiene", short), "the configured minimum applies")
}

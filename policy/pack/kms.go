package pack

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

// kmsKeyHygiene: a key that never rotates, that could lock everyone out, that
// is disabled, or that a slip could delete within days, puts everything it
// encrypts at risk.
var kmsKeyHygiene = resourcePolicy{
	name: "kms-key-hygiene",
	description: "KMS keys are enabled, rotate (symmetric encryption keys), keep the key-policy lockout safety check, and " +
		"wait at least the configured number of days before deletion.",
	level: mandatory,
	settings: []setting{intSetting{
		name: "minDeletionWindowDays", description: "Shortest acceptable deletionWindowInDays.",
		min: 7, max: 30, field: func(c *Config) *int { return &c.MinKeyDeletionWindowDays },
	}},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		switch r.Type {
		case typeKMSKey, typeKMSReplicaKey, typeKMSKeyPolicy:
		default:
			return
		}
		if v := at(r.Properties, "bypassPolicyLockoutSafetyCheck"); !v.IsComputed() {
			if on, _ := boolOf(v); on {
				report("bypassPolicyLockoutSafetyCheck is true: KMS then accepts a key policy that locks every " +
					"principal, this account's administrators included, out of the key")
			}
		}
		if r.Type == typeKMSKeyPolicy {
			return
		}
		enabled := "isEnabled"
		if r.Type == typeKMSReplicaKey {
			enabled = "enabled"
		}
		if v := at(r.Properties, enabled); !v.IsComputed() {
			if on, ok := boolOf(v); ok && !on {
				report(enabled + " is false: nothing encrypted with the key can be read until it is enabled again")
			}
		}
		if v := at(r.Properties, "deletionWindowInDays"); !v.IsComputed() {
			days, ok := numberOf(v)
			if !ok {
				days = 30 // the KMS default
			}
			if days < float64(cfg.MinKeyDeletionWindowDays) {
				report(fmt.Sprintf("deletionWindowInDays is %v, below the minimum of %d: a mistaken deletion could not be "+
					"cancelled after that, and what the key encrypts would be lost", days, cfg.MinKeyDeletionWindowDays))
			}
		}
		// A replica key rotates with its primary.
		if r.Type == typeKMSKey {
			if rotates, known := needsRotation(r); known && rotates {
				mustBeTrue(report, "enableKeyRotation", at(r.Properties, "enableKeyRotation"),
					"a symmetric encryption key should get new key material every year")
			}
		}
	},
}

// needsRotation tells whether KMS can rotate the key automatically: a
// symmetric encryption key whose material KMS generates and holds (not one
// in a custom or external key store); known is false while that is unknown.
func needsRotation(key policyx.AnalyzerResource) (rotates, known bool) {
	for prop, want := range map[string]string{"customerMasterKeySpec": "SYMMETRIC_DEFAULT", "keyUsage": "ENCRYPT_DECRYPT"} {
		v := at(key.Properties, prop)
		if v.IsComputed() {
			return false, false
		}
		if s, ok := stringOf(v); ok && s != "" && !strings.EqualFold(s, want) {
			return false, true
		}
	}
	for _, store := range []string{"customKeyStoreId", "xksKeyId"} {
		v := at(key.Properties, store)
		if v.IsComputed() {
			return false, false
		}
		if isSet(v) {
			return false, true
		}
	}
	return true, true
}

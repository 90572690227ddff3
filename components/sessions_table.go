package components

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/sessions"
)

// SessionsTableArgs configures a SessionsTable. Every field is optional; the
// comment of each gives its default.
type SessionsTableArgs struct {
	// Name of the table. Default "manga-assist-sessions".
	Name string
	// DeletionProtection turns on DynamoDB deletion protection. Default (nil) true.
	DeletionProtection *bool
	// PITRRecoveryDays is the point-in-time recovery window, 1-35 days.
	// Default 35. PITR itself cannot be turned off.
	PITRRecoveryDays int
	// TTLAttribute is the attribute DynamoDB TTL expires items by. Default "" (TTL off).
	TTLAttribute string
	// KMSKeyARN encrypts the table, its stream and backups with an existing
	// key. Default nil: the component creates a key with rotation on.
	KMSKeyARN pulumi.StringInput
	// KMSKeyDeletionWindowDays is the waiting period, 7-30 days, before a key
	// the component created is destroyed. Default 30.
	KMSKeyDeletionWindowDays int
	// MultiRegionKey makes the created key a multi-Region key, which global
	// table replicas need. Default false.
	MultiRegionKey bool
	// Tags go on every resource, beside component=SessionsTable.
	Tags map[string]string
}

// Defaults of SessionsTableArgs.
const (
	DefaultPITRRecoveryDays         = 35
	DefaultKMSKeyDeletionWindowDays = 30
)

// withDefaults returns a copy of a with every unset field defaulted, or an
// error naming every bad field.
func (a SessionsTableArgs) withDefaults() (SessionsTableArgs, error) {
	if a.Name == "" {
		a.Name = sessions.DefaultTableName
	}
	if a.DeletionProtection == nil {
		a.DeletionProtection = pulumi.BoolRef(true)
	}
	if a.PITRRecoveryDays == 0 {
		a.PITRRecoveryDays = DefaultPITRRecoveryDays
	}
	if a.KMSKeyDeletionWindowDays == 0 {
		a.KMSKeyDeletionWindowDays = DefaultKMSKeyDeletionWindowDays
	}
	var problems []string
	if !sessions.ValidTableName(a.Name) {
		problems = append(problems, fmt.Sprintf("Name %q: %s", a.Name, sessions.TableNameRule))
	}
	if a.PITRRecoveryDays < 1 || a.PITRRecoveryDays > 35 {
		problems = append(problems, fmt.Sprintf("PITRRecoveryDays %d: must be 1 to 35", a.PITRRecoveryDays))
	}
	if a.TTLAttribute == sessions.PartitionKey || a.TTLAttribute == sessions.SortKey {
		problems = append(problems, fmt.Sprintf("TTLAttribute %q: must not be a key attribute", a.TTLAttribute))
	}
	if p := keyDeletionWindowProblem(a.KMSKeyDeletionWindowDays); p != "" {
		problems = append(problems, p)
	}
	return a, argsError("SessionsTableArgs", problems)
}

// SessionsTable is the DynamoDB table that holds chat sessions, with its
// change stream on and point-in-time recovery and KMS encryption always on.
type SessionsTable struct {
	pulumi.ResourceState

	TableName pulumi.StringOutput `pulumi:"tableName"`
	TableArn  pulumi.StringOutput `pulumi:"tableArn"`
	StreamArn pulumi.StringOutput `pulumi:"streamArn"`
	KMSKeyArn pulumi.StringOutput `pulumi:"kmsKeyArn"`
}

// NewSessionsTable creates the sessions table and, unless args names one, its
// KMS key.
func NewSessionsTable(ctx *pulumi.Context, name string, args *SessionsTableArgs, opts ...pulumi.ResourceOption) (*SessionsTable, error) {
	if args == nil {
		args = &SessionsTableArgs{}
	}
	a, err := args.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &SessionsTable{}
	if err := ctx.RegisterComponentResource(typeToken("SessionsTable"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := tagsFor("SessionsTable", a.Tags)

	keyArn := a.KMSKeyARN
	if keyArn == nil {
		key, err := newKey(ctx, name, keyArgs{
			alias:              a.Name,
			description:        fmt.Sprintf("Encrypts the DynamoDB table %s, its stream and its backups", a.Name),
			deletionWindowDays: a.KMSKeyDeletionWindowDays,
			multiRegion:        a.MultiRegionKey,
			tags:               tags,
		}, parent)
		if err != nil {
			return nil, err
		}
		keyArn = key.Arn
	}

	var ttl dynamodb.TableTtlPtrInput
	if a.TTLAttribute != "" {
		ttl = &dynamodb.TableTtlArgs{AttributeName: pulumi.String(a.TTLAttribute), Enabled: pulumi.Bool(true)}
	}
	table, err := dynamodb.NewTable(ctx, name, &dynamodb.TableArgs{
		Name:        pulumi.String(a.Name),
		BillingMode: pulumi.String("PAY_PER_REQUEST"),
		HashKey:     pulumi.String(sessions.PartitionKey),
		RangeKey:    pulumi.String(sessions.SortKey),
		Attributes: dynamodb.TableAttributeArray{
			&dynamodb.TableAttributeArgs{Name: pulumi.String(sessions.PartitionKey), Type: pulumi.String("S")},
			&dynamodb.TableAttributeArgs{Name: pulumi.String(sessions.SortKey), Type: pulumi.String("S")},
		},
		StreamEnabled:  pulumi.Bool(true),
		StreamViewType: pulumi.String(sessions.StreamViewType),
		PointInTimeRecovery: &dynamodb.TablePointInTimeRecoveryArgs{
			Enabled:              pulumi.Bool(true),
			RecoveryPeriodInDays: pulumi.Int(a.PITRRecoveryDays),
		},
		ServerSideEncryption: &dynamodb.TableServerSideEncryptionArgs{
			Enabled:   pulumi.Bool(true),
			KmsKeyArn: keyArn,
		},
		DeletionProtectionEnabled: pulumi.Bool(*a.DeletionProtection),
		Ttl:                       ttl,
		Tags:                      tags,
		// Replicas are TableReplica resources of GlobalTableFailover (the
		// inline block cannot set their deletion protection); the table must
		// not manage them too, or each update would undo the other's.
	}, parent, pulumi.IgnoreChanges([]string{"replicas"}))
	if err != nil {
		return nil, err
	}

	c.TableName = table.Name
	c.TableArn = table.Arn
	c.StreamArn = table.StreamArn
	c.KMSKeyArn = keyArn.ToStringOutput()
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"tableName": c.TableName,
		"tableArn":  c.TableArn,
		"streamArn": c.StreamArn,
		"kmsKeyArn": c.KMSKeyArn,
	})
}

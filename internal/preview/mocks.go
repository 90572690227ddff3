package preview

import (
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Account is the AWS account id the mocks put in every ARN.
const Account = "123456789012"

// Mocks is a Pulumi mock resource monitor: it records every resource the
// program registers and answers with the outputs AWS would compute (ARNs,
// ids, stream ARNs), so that later resources see realistic values.
type Mocks struct {
	Region string

	mu        sync.Mutex
	resources []Resource
	regions   map[string]string // provider id -> its region, for resources in other regions
}

// NewMocks returns mocks that place resources in region.
func NewMocks(region string) *Mocks { return &Mocks{Region: region} }

// Resources returns what has been registered so far, in registration order.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.resources)
}

// NewResource records a registration and returns its id and state.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	rpc := args.RegisterRPC
	r := Resource{
		Type:     args.TypeToken,
		Name:     args.Name,
		Custom:   args.Custom,
		Provider: args.Provider,
		Inputs:   plainMap(args.Inputs),

		Properties: resource.FromResourcePropertyMap(args.Inputs),
	}
	if rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.IgnoreChanges = rpc.GetIgnoreChanges()
		r.Dependencies = dependencies(rpc.GetDependencies(), rpc.GetPropertyDependencies())
		r.PropertyDependencies = map[string][]string{}
		for prop, deps := range rpc.GetPropertyDependencies() {
			r.PropertyDependencies[prop] = deps.GetUrns()
		}
		r.URN = childURN(r.Parent, r.Type, r.Name)
	}
	if args.Custom {
		r.ID = physicalID(args)
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()

	if !args.Custom {
		return "", args.Inputs, nil
	}
	id := r.ID
	state := args.Inputs.Copy()
	var region string
	m.mu.Lock()
	if args.TypeToken == "pulumi:providers:aws" {
		if reg, ok := args.Inputs["region"]; ok && reg.IsString() {
			if m.regions == nil {
				m.regions = map[string]string{}
			}
			m.regions[id] = reg.StringValue()
		}
	}
	region = m.regionOfLocked(args.Provider)
	m.mu.Unlock()
	for k, v := range m.computedOutputs(args.TypeToken, id, region, args.Inputs) {
		if _, set := state[resource.PropertyKey(k)]; !set {
			state[resource.PropertyKey(k)] = resource.NewProperty(v)
		}
	}
	return id, state, nil
}

// regionOfLocked is the region of a provider reference ("<urn>::<id>"): an
// explicit provider's own, else the stack's. m.mu must be held.
func (m *Mocks) regionOfLocked(provider string) string {
	if i := strings.LastIndex(provider, "::"); i >= 0 {
		if reg, known := m.regions[provider[i+2:]]; known {
			return reg
		}
	}
	return m.Region
}

// Call answers the provider functions the program calls, in the region of
// the provider they are called with.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	region := m.regionOfLocked(args.Provider)
	m.mu.Unlock()
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": Account,
			"arn":       "arn:aws:iam::" + Account + ":user/offline-preview",
			"id":        Account,
			"userId":    "AIDAOFFLINEPREVIEW",
		}), nil
	case "aws:index/getRegion:getRegion":
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": region, "id": region, "description": region, "endpoint": "ec2." + region + ".amazonaws.com",
		}), nil
	case "aws:dynamodb/getTable:getTable":
		// The table (a replica, in another region) as DescribeTable shows
		// it: its ARN and its own stream there.
		name := args.Args["name"].StringValue()
		arn := fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, Account, name)
		return resource.NewPropertyMapFromMap(map[string]any{
			"name": name, "id": name, "arn": arn,
			"streamArn": arn + "/stream/1970-01-01T00:00:00.000", "streamLabel": "1970-01-01T00:00:00.000",
			"streamEnabled": true, "streamViewType": "NEW_AND_OLD_IMAGES",
		}), nil
	}
	return nil, fmt.Errorf("offline preview: provider function %s has no mock; add one to internal/preview/mocks.go", args.Token)
}

// physicalID is the name AWS would know the resource by: its name input if
// it has one, a UUID for KMS keys, else the logical name with a stable
// suffix, as Pulumi's auto-naming would give it.
func physicalID(args pulumi.MockResourceArgs) string {
	for _, key := range []resource.PropertyKey{"name", "bucket", "pipelineName"} {
		if n, ok := args.Inputs[key]; ok && n.IsString() {
			return n.StringValue()
		}
	}
	sum := sha256.Sum256([]byte(args.TypeToken + "/" + args.Name))
	if args.TypeToken == "aws:kms/key:Key" {
		return fmt.Sprintf("%x-%x-%x-%x-%x", sum[0:4], sum[4:6], sum[6:8], sum[8:10], sum[10:16])
	}
	return fmt.Sprintf("%s-%x", args.Name, sum[0:4])[:len(args.Name)+8]
}

// arnFormats are the ARN shapes of the types whose ARN is not the generic
// arn:aws:<service>:<region>:<account>:<id>. %[1]s is the region, %[2]s the
// account, %[3]s the physical id.
var arnFormats = map[string]string{
	"aws:dynamodb/table:Table":     "arn:aws:dynamodb:%[1]s:%[2]s:table/%[3]s",
	"aws:kms/key:Key":              "arn:aws:kms:%[1]s:%[2]s:key/%[3]s",
	"aws:s3/bucketV2:BucketV2":     "arn:aws:s3:::%[3]s",
	"aws:iam/role:Role":            "arn:aws:iam::%[2]s:role/%[3]s",
	"aws:iam/policy:Policy":        "arn:aws:iam::%[2]s:policy/%[3]s",
	"aws:lambda/function:Function": "arn:aws:lambda:%[1]s:%[2]s:function:%[3]s",
	"aws:kinesis/stream:Stream":    "arn:aws:kinesis:%[1]s:%[2]s:stream/%[3]s",
	"aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": "arn:aws:firehose:%[1]s:%[2]s:deliverystream/%[3]s",
	"aws:cloudwatch/logGroup:LogGroup":                          "arn:aws:logs:%[1]s:%[2]s:log-group:%[3]s",
	"aws:glue/catalogDatabase:CatalogDatabase":                  "arn:aws:glue:%[1]s:%[2]s:database/%[3]s",
	"aws:athena/workgroup:Workgroup":                            "arn:aws:athena:%[1]s:%[2]s:workgroup/%[3]s",
	"aws:sqs/queue:Queue":                                       "arn:aws:sqs:%[1]s:%[2]s:%[3]s",
	"aws:sfn/stateMachine:StateMachine":                         "arn:aws:states:%[1]s:%[2]s:stateMachine:%[3]s",
	"aws:cloudwatch/metricAlarm:MetricAlarm":                    "arn:aws:cloudwatch:%[1]s:%[2]s:alarm:%[3]s",
	"aws:opensearch/serverlessCollection:ServerlessCollection":  "arn:aws:aoss:%[1]s:%[2]s:collection/%[3]s",
	"aws:opensearchingest/pipeline:Pipeline":                    "arn:aws:osis:%[1]s:%[2]s:pipeline/%[3]s",
}

// computedOutputs are the outputs AWS computes for a type: its ARN, its name
// when Pulumi auto-named it, and a few type-specific ones.
func (m *Mocks) computedOutputs(typ, id, region string, inputs resource.PropertyMap) map[string]string {
	format, ok := arnFormats[typ]
	if !ok {
		format = "arn:aws:" + serviceOf(typ) + ":%[1]s:%[2]s:%[3]s"
	}
	if mr, ok := inputs["multiRegion"]; typ == "aws:kms/key:Key" && ok && mr.IsBool() && mr.BoolValue() {
		id = "mrk-" + strings.ReplaceAll(id, "-", "")
	}
	arn := fmt.Sprintf(format, region, Account, id)
	// A replica is the global table's name in another region; a replica key
	// has the id of its primary key.
	if from, ok := inputs["globalTableArn"]; typ == "aws:dynamodb/tableReplica:TableReplica" && ok && from.IsString() {
		_, name, _ := strings.Cut(from.StringValue(), ":table/")
		arn = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", region, Account, name)
	}
	if from, ok := inputs["primaryKeyArn"]; typ == "aws:kms/replicaKey:ReplicaKey" && ok && from.IsString() {
		_, keyID, _ := strings.Cut(from.StringValue(), ":key/")
		arn = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", region, Account, keyID)
	}
	out := map[string]string{"arn": arn, "name": id}
	switch typ {
	case "aws:dynamodb/table:Table":
		out["streamArn"] = arn + "/stream/1970-01-01T00:00:00.000"
		out["streamLabel"] = "1970-01-01T00:00:00.000"
	case "aws:kms/key:Key":
		out["keyId"] = id
	case "aws:opensearch/serverlessCollection:ServerlessCollection":
		out["collectionEndpoint"] = "https://" + id + "." + region + ".aoss.amazonaws.com"
		out["dashboardEndpoint"] = "https://" + id + "." + region + ".aoss.amazonaws.com/_dashboards"
	case "aws:opensearchingest/pipeline:Pipeline":
		out["pipelineArn"] = arn
	case "aws:s3/bucketV2:BucketV2":
		out["bucket"] = id
		out["bucketDomainName"] = id + ".s3.amazonaws.com"
		out["region"] = region
	}
	return out
}

// serviceOf returns the module of a type token: "aws:kms/key:Key" -> "kms".
func serviceOf(typ string) string {
	_, rest, _ := strings.Cut(typ, ":")
	module, _, _ := strings.Cut(rest, "/")
	module, _, _ = strings.Cut(module, ":")
	return module
}

// dependencies lists, without repeats, every URN a registration depends on.
func dependencies(deps []string, byProperty map[string]*pulumirpc.RegisterResourceRequest_PropertyDependencies) []string {
	var all []string
	all = append(all, deps...)
	for _, d := range byProperty {
		all = append(all, d.GetUrns()...)
	}
	slices.Sort(all)
	return slices.Compact(all)
}

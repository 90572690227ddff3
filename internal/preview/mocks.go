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
		Type:   args.TypeToken,
		Name:   args.Name,
		Custom: args.Custom,
		Inputs: plainMap(args.Inputs),
	}
	if rpc != nil {
		r.Parent = rpc.GetParent()
		r.Protect = rpc.GetProtect()
		r.Dependencies = dependencies(rpc.GetDependencies(), rpc.GetPropertyDependencies())
		r.URN = childURN(r.Parent, r.Type, r.Name)
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()

	if !args.Custom {
		return "", args.Inputs, nil
	}
	id := physicalID(args)
	state := args.Inputs.Copy()
	for k, v := range m.computedOutputs(args.TypeToken, id, args.Inputs) {
		if _, set := state[resource.PropertyKey(k)]; !set {
			state[resource.PropertyKey(k)] = resource.NewProperty(v)
		}
	}
	return id, state, nil
}

// Call answers the provider functions the program calls.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	switch args.Token {
	case "aws:index/getCallerIdentity:getCallerIdentity":
		return resource.NewPropertyMapFromMap(map[string]any{
			"accountId": Account,
			"arn":       "arn:aws:iam::" + Account + ":user/offline-preview",
			"id":        Account,
			"userId":    "AIDAOFFLINEPREVIEW",
		}), nil
	}
	return nil, fmt.Errorf("offline preview: provider function %s has no mock; add one to internal/preview/mocks.go", args.Token)
}

// physicalID is the name AWS would know the resource by: its name input if
// it has one, a UUID for KMS keys, else the logical name with a stable
// suffix, as Pulumi's auto-naming would give it.
func physicalID(args pulumi.MockResourceArgs) string {
	for _, key := range []resource.PropertyKey{"name", "bucket"} {
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

// computedOutputs are the outputs AWS computes for a type.
func (m *Mocks) computedOutputs(typ, id string, inputs resource.PropertyMap) map[string]string {
	service := serviceOf(typ)
	arn := fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, m.Region, Account, id)
	switch typ {
	case "aws:dynamodb/table:Table":
		arn = fmt.Sprintf("arn:aws:dynamodb:%s:%s:table/%s", m.Region, Account, id)
		return map[string]string{"arn": arn, "streamArn": arn + "/stream/1970-01-01T00:00:00.000", "streamLabel": "1970-01-01T00:00:00.000"}
	case "aws:s3/bucketV2:BucketV2":
		return map[string]string{"arn": "arn:aws:s3:::" + id, "bucket": id,
			"bucketDomainName": id + ".s3.amazonaws.com", "region": m.Region}
	case "aws:kms/key:Key":
		arn = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", m.Region, Account, id)
		if mr, ok := inputs["multiRegion"]; ok && mr.IsBool() && mr.BoolValue() {
			arn = fmt.Sprintf("arn:aws:kms:%s:%s:key/mrk-%s", m.Region, Account, strings.ReplaceAll(id, "-", ""))
		}
		return map[string]string{"arn": arn, "keyId": id}
	}
	return map[string]string{"arn": arn}
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

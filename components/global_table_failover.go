package components

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/route53"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// GlobalTableFailoverArgs configures a GlobalTableFailover. The table, its
// key, the primary region and at least one replica region are required.
type GlobalTableFailoverArgs struct {
	// TableName, TableArn and TableKMSKeyArn are the sessions table's
	// (SessionsTable outputs). The key must be a multi-Region key
	// (SessionsTableArgs.MultiRegionKey): each replica region gets a replica
	// of it, and the replica is encrypted with that.
	TableName, TableArn, TableKMSKeyArn pulumi.StringInput
	// PrimaryRegion is the table's region (the stack's aws:region).
	PrimaryRegion string
	// ReplicaRegions get a replica each, in this order of failover.
	ReplicaRegions []string
	// DeletionProtection on every replica. Default (nil) true.
	DeletionProtection *bool
	// KMSKeyDeletionWindowDays of the replica keys, 7-30. Default 30.
	KMSKeyDeletionWindowDays int

	// Failover routes a DNS name to the chatbot's endpoint in the first
	// healthy region. Default nil: routing off (replicas and alarms only).
	Failover *FailoverRouting

	// ReplicationLatencySeconds: alarm when replication to a region lags
	// this much. Default 60.
	ReplicationLatencySeconds int
	// AlarmTopicArn receives the alarms; nil: no alarms.
	AlarmTopicArn pulumi.StringInput

	// Tags go on every resource, beside component=GlobalTableFailover.
	Tags map[string]string
}

// FailoverRouting is Route 53 failover routing for the chatbot's endpoints.
type FailoverRouting struct {
	// HostedZoneID holds RecordName. Required.
	HostedZoneID string
	// RecordName is the name clients use, e.g. "chat.example.com". It gets
	// CNAME records, so it cannot be the zone apex. Required.
	RecordName string
	// Endpoints are the chatbot's host name in each region, the primary and
	// every replica region. Required.
	Endpoints map[string]string
	// HealthCheckPath is requested over HTTPS. Default "/health".
	HealthCheckPath string
	// FailureThreshold: consecutive failed checks before a region is
	// unhealthy, 1-10. Default 3.
	FailureThreshold int
	// RequestIntervalSeconds between checks: 10 or 30. Default 30.
	RequestIntervalSeconds int
	// AlarmTopicArn receives the health-check alarms. Route 53 publishes its
	// metrics in us-east-1 only, so the topic must be there. Default: the
	// component's AlarmTopicArn when the primary region is us-east-1.
	AlarmTopicArn pulumi.StringInput
}

// Defaults of GlobalTableFailoverArgs.
const (
	DefaultReplicationLatencySeconds = 60
	DefaultHealthCheckPath           = "/health"
	DefaultFailureThreshold          = 3
	DefaultRequestIntervalSeconds    = 30
	// route53MetricsRegion is the only region with Route 53's metrics
	// (Route 53 Developer Guide, "Monitoring health checks using CloudWatch").
	route53MetricsRegion = "us-east-1"
)

var hostNamePattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}\.?$`)

func (a GlobalTableFailoverArgs) withDefaults() (GlobalTableFailoverArgs, error) {
	if a.DeletionProtection == nil {
		a.DeletionProtection = pulumi.BoolRef(true)
	}
	defaultInt(&a.KMSKeyDeletionWindowDays, DefaultKMSKeyDeletionWindowDays)
	defaultInt(&a.ReplicationLatencySeconds, DefaultReplicationLatencySeconds)
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	if a.TableName == nil || a.TableArn == nil || a.TableKMSKeyArn == nil {
		bad("TableName, TableArn, TableKMSKeyArn: required")
	}
	if a.PrimaryRegion == "" {
		bad("PrimaryRegion: required")
	}
	if len(a.ReplicaRegions) == 0 {
		bad("ReplicaRegions: at least one region is required")
	}
	for i, r := range a.ReplicaRegions {
		switch {
		case r == a.PrimaryRegion:
			bad("ReplicaRegions[%d] %q: is the primary region", i, r)
		case slices.Index(a.ReplicaRegions, r) != i:
			bad("ReplicaRegions[%d] %q: listed twice", i, r)
		}
	}
	if p := keyDeletionWindowProblem(a.KMSKeyDeletionWindowDays); p != "" {
		problems = append(problems, p)
	}
	if a.ReplicationLatencySeconds < 1 || a.ReplicationLatencySeconds > 3600 {
		bad("ReplicationLatencySeconds %d: must be 1 to 3600", a.ReplicationLatencySeconds)
	}
	if f := a.Failover; f != nil {
		routing := *f
		if routing.HealthCheckPath == "" {
			routing.HealthCheckPath = DefaultHealthCheckPath
		}
		defaultInt(&routing.FailureThreshold, DefaultFailureThreshold)
		defaultInt(&routing.RequestIntervalSeconds, DefaultRequestIntervalSeconds)
		if routing.AlarmTopicArn == nil && a.PrimaryRegion == route53MetricsRegion {
			routing.AlarmTopicArn = a.AlarmTopicArn
		}
		a.Failover = &routing
		if routing.HostedZoneID == "" {
			bad("Failover.HostedZoneID: required")
		}
		if !hostNamePattern.MatchString(routing.RecordName) {
			bad("Failover.RecordName %q: must be a DNS name such as chat.example.com", routing.RecordName)
		}
		for _, r := range a.regions() {
			if h, ok := routing.Endpoints[r]; !ok || !hostNamePattern.MatchString(h) {
				bad("Failover.Endpoints[%q] %q: every region needs the chatbot's host name there", r, h)
			}
		}
		for _, r := range slices.Sorted(maps.Keys(routing.Endpoints)) {
			if !slices.Contains(a.regions(), r) {
				bad("Failover.Endpoints[%q]: not the primary or a replica region", r)
			}
		}
		if !strings.HasPrefix(routing.HealthCheckPath, "/") {
			bad("Failover.HealthCheckPath %q: must start with /", routing.HealthCheckPath)
		}
		if routing.FailureThreshold < 1 || routing.FailureThreshold > 10 {
			bad("Failover.FailureThreshold %d: must be 1 to 10", routing.FailureThreshold)
		}
		if routing.RequestIntervalSeconds != 10 && routing.RequestIntervalSeconds != 30 {
			bad("Failover.RequestIntervalSeconds %d: Route 53 checks every 10 or 30 seconds", routing.RequestIntervalSeconds)
		}
		if routing.AlarmTopicArn == nil && a.AlarmTopicArn != nil {
			bad("Failover.AlarmTopicArn: required when the primary region is %s: Route 53's metrics, and so its alarms and their topic, are in %s", a.PrimaryRegion, route53MetricsRegion)
		}
	}
	return a, argsError("GlobalTableFailoverArgs", problems)
}

// regions are the primary region and then the replica regions: the order
// in which the chatbot's traffic fails over.
func (a GlobalTableFailoverArgs) regions() []string {
	return append([]string{a.PrimaryRegion}, a.ReplicaRegions...)
}

// GlobalTableFailover makes the sessions table a global table with a
// backed-up, protected replica in each replica region, watches replication,
// and (optionally) routes the chatbot's name to the first healthy region.
type GlobalTableFailover struct {
	pulumi.ResourceState

	// ReplicaArns are the replica tables' ARNs, by region.
	ReplicaArns pulumi.StringMapOutput `pulumi:"replicaArns"`
	// HealthCheckIDs are the Route 53 health checks, by region; empty when
	// routing is off.
	HealthCheckIDs pulumi.StringMapOutput `pulumi:"healthCheckIds"`
	// RecordName is the failover name; empty when routing is off.
	RecordName pulumi.StringOutput `pulumi:"recordName"`

	// Replicas are the replicas by region, for what else lives in their
	// regions (a standby analytics pipeline reads a replica's stream).
	Replicas map[string]Replica
}

// Replica is a replica of the table in one region.
type Replica struct {
	// Provider is the AWS provider of the replica's region.
	Provider *aws.Provider
	// KMSKeyArn encrypts the replica and its stream.
	KMSKeyArn pulumi.StringOutput
	// StreamArn is the replica's own stream: it carries the writes made in
	// that region and the writes replicated to it, each with an event id
	// of that region (read with DescribeTable once the replica exists;
	// the provider's TableReplica has no stream attribute).
	StreamArn pulumi.StringOutput
}

// NewGlobalTableFailover creates, for each replica region, a provider, a
// replica of the table's key, and the replica; then the replication alarms;
// then, when configured, health checks, failover records and their alarms.
//
// The table itself must not manage replicas (SessionsTable ignores its
// replicas property): pulumi-aws v6's inline replicas cannot set deletion
// protection, and managing replicas both ways makes each undo the other.
func NewGlobalTableFailover(ctx *pulumi.Context, name string, args *GlobalTableFailoverArgs, opts ...pulumi.ResourceOption) (*GlobalTableFailover, error) {
	if args == nil {
		args = &GlobalTableFailoverArgs{}
	}
	a, err := args.withDefaults()
	if err != nil {
		return nil, err
	}
	c := &GlobalTableFailover{}
	if err := ctx.RegisterComponentResource(typeToken("GlobalTableFailover"), name, c, opts...); err != nil {
		return nil, err
	}
	parent := pulumi.Parent(c)
	tags := tagsFor("GlobalTableFailover", a.Tags)

	replicaArns := pulumi.StringMap{}
	c.Replicas = map[string]Replica{}
	for _, region := range a.ReplicaRegions {
		provider, err := aws.NewProvider(ctx, name+"-"+region, &aws.ProviderArgs{Region: pulumi.String(region)}, parent)
		if err != nil {
			return nil, err
		}
		in := []pulumi.ResourceOption{parent, pulumi.Provider(provider)}
		// A replica of the multi-Region key: same key material and id, so
		// the replica is encrypted with a key of ours in its own region.
		key, err := kms.NewReplicaKey(ctx, name+"-key-"+region, &kms.ReplicaKeyArgs{
			PrimaryKeyArn:        a.TableKMSKeyArn,
			Description:          pulumi.Sprintf("Replica in %s of the key of the DynamoDB table %s", region, a.TableName),
			DeletionWindowInDays: pulumi.Int(a.KMSKeyDeletionWindowDays),
			Tags:                 tags,
		}, in...)
		if err != nil {
			return nil, err
		}
		// Changing kmsKeyArn replaces the replica (terraform-provider-aws
		// #29102): the key is created once per region and kept.
		replica, err := dynamodb.NewTableReplica(ctx, name+"-"+region, &dynamodb.TableReplicaArgs{
			GlobalTableArn:            a.TableArn,
			KmsKeyArn:                 key.Arn,
			PointInTimeRecovery:       pulumi.Bool(true), // always: a replica is a table to restore too
			DeletionProtectionEnabled: pulumi.Bool(*a.DeletionProtection),
			Tags:                      tags,
		}, in...)
		if err != nil {
			return nil, err
		}
		replicaArns[region] = replica.Arn
		// The table's name taken from the replica's ARN, so the lookup waits
		// for the replica (and is unknown in a preview before it exists).
		replicaName := replica.Arn.ApplyT(func(arn string) string {
			_, table, _ := strings.Cut(arn, ":table/")
			return table
		}).(pulumi.StringOutput)
		stream := dynamodb.LookupTableOutput(ctx, dynamodb.LookupTableOutputArgs{Name: replicaName},
			parent, pulumi.Provider(provider)).StreamArn()
		c.Replicas[region] = Replica{Provider: provider, KMSKeyArn: key.Arn, StreamArn: stream}
	}

	if a.AlarmTopicArn != nil {
		actions := pulumi.Array{a.AlarmTopicArn}
		for _, region := range a.ReplicaRegions {
			// Emitted in the source region, per receiving region (DynamoDB
			// Developer Guide, "DynamoDB metrics and dimensions").
			if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-latency-"+region, &cloudwatch.MetricAlarmArgs{
				AlarmDescription:   pulumi.Sprintf("Replication of %s to %s lags", a.TableName, region),
				Namespace:          pulumi.String("AWS/DynamoDB"),
				MetricName:         pulumi.String("ReplicationLatency"),
				Dimensions:         pulumi.StringMap{"TableName": a.TableName, "ReceivingRegion": pulumi.String(region)},
				Statistic:          pulumi.String("Average"),
				Period:             pulumi.Int(60),
				EvaluationPeriods:  pulumi.Int(5),
				DatapointsToAlarm:  pulumi.Int(3),
				Threshold:          pulumi.Float64(float64(a.ReplicationLatencySeconds * 1000)),
				ComparisonOperator: pulumi.String("GreaterThanThreshold"),
				TreatMissingData:   pulumi.String("notBreaching"), // no writes, no latency
				AlarmActions:       actions,
				OkActions:          actions,
				Tags:               tags,
			}, parent); err != nil {
				return nil, err
			}
		}
	}

	healthChecks := pulumi.StringMap{}
	record := pulumi.String("").ToStringOutput()
	if f := a.Failover; f != nil {
		healthChecks, err = failoverRouting(ctx, name, a, *f, tags, parent)
		if err != nil {
			return nil, err
		}
		record = pulumi.String(f.RecordName).ToStringOutput()
	}

	c.ReplicaArns = replicaArns.ToStringMapOutput()
	c.HealthCheckIDs = healthChecks.ToStringMapOutput()
	c.RecordName = record
	return c, ctx.RegisterResourceOutputs(c, pulumi.Map{
		"replicaArns":    c.ReplicaArns,
		"healthCheckIds": c.HealthCheckIDs,
		"recordName":     c.RecordName,
	})
}

// failoverRouting creates a health check per region and the failover
// records. Route 53 allows one PRIMARY and one SECONDARY record per name, so
// three or more regions chain: the SECONDARY of each name is a CNAME to the
// next name ("failover-<n>.<record>"), itself a PRIMARY/SECONDARY pair.
// Failover happens by health-check state, in Route 53's data plane; nobody
// edits records during an outage (Route 53's control plane is in one region).
func failoverRouting(ctx *pulumi.Context, name string, a GlobalTableFailoverArgs, f FailoverRouting,
	tags pulumi.StringMap, parent pulumi.ResourceOrInvokeOption) (pulumi.StringMap, error) {
	regions := a.regions()
	checks := map[string]*route53.HealthCheck{}
	ids := pulumi.StringMap{}
	for _, region := range regions {
		hc, err := route53.NewHealthCheck(ctx, name+"-health-"+region, &route53.HealthCheckArgs{
			Type:             pulumi.String("HTTPS"),
			Fqdn:             pulumi.String(f.Endpoints[region]),
			Port:             pulumi.Int(443),
			ResourcePath:     pulumi.String(f.HealthCheckPath),
			EnableSni:        pulumi.Bool(true),
			FailureThreshold: pulumi.Int(f.FailureThreshold),
			RequestInterval:  pulumi.Int(f.RequestIntervalSeconds),
			Tags:             mergeTags(tags, "Name", fmt.Sprintf("%s %s", f.RecordName, region)),
		}, parent)
		if err != nil {
			return nil, err
		}
		checks[region] = hc
		ids[region] = hc.ID().ToStringOutput()
	}

	nameAt := func(i int) string {
		if i == 0 {
			return f.RecordName
		}
		return fmt.Sprintf("failover-%d.%s", i, f.RecordName)
	}
	cname := func(logical, recordName, role, target string, check *route53.HealthCheck) error {
		args := &route53.RecordArgs{
			ZoneId:                  pulumi.String(f.HostedZoneID),
			Name:                    pulumi.String(recordName),
			Type:                    pulumi.String("CNAME"),
			Ttl:                     pulumi.Int(60),
			Records:                 pulumi.StringArray{pulumi.String(target)},
			SetIdentifier:           pulumi.String(strings.ToLower(role)),
			FailoverRoutingPolicies: route53.RecordFailoverRoutingPolicyArray{&route53.RecordFailoverRoutingPolicyArgs{Type: pulumi.String(role)}},
		}
		if check != nil {
			args.HealthCheckId = check.ID()
		}
		_, err := route53.NewRecord(ctx, logical, args, parent)
		return err
	}
	for i := 0; i+1 < len(regions); i++ {
		here := regions[i]
		if err := cname(fmt.Sprintf("%s-%d-primary", name, i), nameAt(i), "PRIMARY", f.Endpoints[here], checks[here]); err != nil {
			return nil, err
		}
		if i+2 == len(regions) { // the last pair: the last region itself
			last := regions[i+1]
			if err := cname(fmt.Sprintf("%s-%d-secondary", name, i), nameAt(i), "SECONDARY", f.Endpoints[last], checks[last]); err != nil {
				return nil, err
			}
			continue
		}
		if err := cname(fmt.Sprintf("%s-%d-secondary", name, i), nameAt(i), "SECONDARY", nameAt(i+1), nil); err != nil {
			return nil, err
		}
	}

	if f.AlarmTopicArn != nil {
		east := []pulumi.ResourceOption{parent}
		if a.PrimaryRegion != route53MetricsRegion {
			provider, err := aws.NewProvider(ctx, name+"-"+route53MetricsRegion, &aws.ProviderArgs{Region: pulumi.String(route53MetricsRegion)}, parent)
			if err != nil {
				return nil, err
			}
			east = append(east, pulumi.Provider(provider))
		}
		actions := pulumi.Array{f.AlarmTopicArn}
		for _, region := range regions {
			if _, err := cloudwatch.NewMetricAlarm(ctx, name+"-health-"+region, &cloudwatch.MetricAlarmArgs{
				AlarmDescription:   pulumi.Sprintf("The chatbot's endpoint in %s fails its health check: %s answers from the next region", region, f.RecordName),
				Namespace:          pulumi.String("AWS/Route53"),
				MetricName:         pulumi.String("HealthCheckStatus"),
				Dimensions:         pulumi.StringMap{"HealthCheckId": checks[region].ID()},
				Statistic:          pulumi.String("Minimum"),
				Period:             pulumi.Int(60),
				EvaluationPeriods:  pulumi.Int(3),
				DatapointsToAlarm:  pulumi.Int(2),
				Threshold:          pulumi.Float64(1),
				ComparisonOperator: pulumi.String("LessThanThreshold"),
				TreatMissingData:   pulumi.String("breaching"), // a check that reports nothing is not healthy
				AlarmActions:       actions,
				OkActions:          actions,
				Tags:               tags,
			}, east...); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

// mergeTags returns tags with one more.
func mergeTags(tags pulumi.StringMap, key, value string) pulumi.StringMap {
	out := pulumi.StringMap{key: pulumi.String(value)}
	for k, v := range tags {
		out[k] = v
	}
	return out
}

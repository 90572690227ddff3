package components

import (
	"github.com/manga-assist/manga-assist-data/internal/streamrouter"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kinesis"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// alarm describes one single-metric alarm of the pipeline.
type alarm struct {
	suffix, description   string
	namespace, metric     string
	dimensions            pulumi.StringMap
	statistic             string
	threshold             float64
	comparison            string
	periods, toAlarm, sec int
}

// alarms is the alarm topic and every alarm: iterator age of the router and
// of Firehose, router errors, throttles and undelivered events, Firehose
// freshness, batches the router gave up on, Kinesis write throttling, and an
// anomaly band on events per minute (CloudWatch anomaly detection: Kinesis
// Data Analytics for SQL, the original design's detector, is discontinued).
func (p *pipeline) alarms(name string, router *lambda.Function, events *kinesis.Stream, delivery *kinesis.FirehoseDeliveryStream) (pulumi.StringOutput, error) {
	if p.a.Alarms.Disabled {
		return pulumi.String("").ToStringOutput(), nil
	}
	topic, err := sns.NewTopic(p.ctx, name+"-alarms", &sns.TopicArgs{
		Name:           pulumi.String(p.physical("pipeline-alarms")),
		KmsMasterKeyId: p.key.Arn,
		Tags:           p.tags,
	}, p.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}
	if p.a.Alarms.Email != nil {
		if _, err := sns.NewTopicSubscription(p.ctx, name+"-alarms-email", &sns.TopicSubscriptionArgs{
			Topic:    topic.Arn,
			Protocol: pulumi.String("email"),
			Endpoint: pulumi.ToSecret(p.a.Alarms.Email).(pulumi.StringOutput),
		}, p.parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}

	// S3 request metrics on the failed-records bucket count what the
	// router's event source mapping gave up on.
	failedMetric, err := s3.NewBucketMetric(p.ctx, name+"-failed-records", &s3.BucketMetricArgs{
		Bucket: p.a.FailedRecordsBucket.Name,
		Name:   pulumi.String("failed-stream-batches"),
	}, p.parent)
	if err != nil {
		return pulumi.StringOutput{}, err
	}

	iteratorAgeMs := float64(p.a.Alarms.IteratorAgeSeconds * 1000)
	fn := pulumi.StringMap{"FunctionName": router.Name}
	stream := pulumi.StringMap{"StreamName": events.Name}
	single := []alarm{
		{"router-iterator-age", "The router is falling behind the sessions table stream",
			"AWS/Lambda", "IteratorAge", fn, "Maximum", iteratorAgeMs, "GreaterThanThreshold", 5, 3, 60},
		{"router-errors", "The router failed invocations (Lambda will retry, then keep the batch in S3)",
			"AWS/Lambda", "Errors", fn, "Sum", 0, "GreaterThanThreshold", 5, 2, 60},
		{"router-throttles", "The router was throttled",
			"AWS/Lambda", "Throttles", fn, "Sum", 0, "GreaterThanThreshold", 5, 2, 60},
		// A partial batch failure is a successful invocation, so Errors stays
		// at zero while Lambda retries the batch: the router's own count of
		// events it could not deliver is what shows a stuck batch, two
		// minutes in, before the iterator age grows past its threshold.
		{"router-undelivered", "The router could not deliver events after its own retries; Lambda is retrying the batch",
			streamrouter.Namespace, "Undelivered", pulumi.StringMap{streamrouter.FunctionDimension: router.Name},
			"Sum", 0, "GreaterThanThreshold", 2, 2, 60},
		{"events-iterator-age", "Firehose is falling behind the events stream",
			"AWS/Kinesis", "GetRecords.IteratorAgeMilliseconds", stream, "Maximum", iteratorAgeMs, "GreaterThanThreshold", 5, 3, 60},
		{"events-write-throttled", "Writes to the events stream were throttled",
			"AWS/Kinesis", "WriteProvisionedThroughputExceeded", stream, "Sum", 0, "GreaterThanThreshold", 5, 2, 60},
		{"delivery-freshness", "Events are waiting too long to reach S3",
			"AWS/Firehose", "DeliveryToS3.DataFreshness", pulumi.StringMap{"DeliveryStreamName": delivery.Name},
			"Maximum", float64(p.a.Alarms.FreshnessSeconds), "GreaterThanThreshold", 3, 2, 300},
		{"failed-batches", "The router gave up on a batch: it is kept in full in the failed-records bucket",
			"AWS/S3", "PutRequests", pulumi.StringMap{"BucketName": p.a.FailedRecordsBucket.Name, "FilterId": failedMetric.Name},
			"Sum", 0, "GreaterThanThreshold", 1, 1, 60},
	}
	actions := pulumi.Array{topic.Arn}
	for _, al := range single {
		if _, err := cloudwatch.NewMetricAlarm(p.ctx, name+"-"+al.suffix, &cloudwatch.MetricAlarmArgs{
			Name:               pulumi.String(p.physical(al.suffix)),
			AlarmDescription:   pulumi.String(al.description),
			Namespace:          pulumi.String(al.namespace),
			MetricName:         pulumi.String(al.metric),
			Dimensions:         al.dimensions,
			Statistic:          pulumi.String(al.statistic),
			Period:             pulumi.Int(al.sec),
			EvaluationPeriods:  pulumi.Int(al.periods),
			DatapointsToAlarm:  pulumi.Int(al.toAlarm),
			Threshold:          pulumi.Float64(al.threshold),
			ComparisonOperator: pulumi.String(al.comparison),
			TreatMissingData:   pulumi.String("notBreaching"),
			AlarmActions:       actions,
			OkActions:          actions,
			Tags:               p.tags,
		}, p.parent); err != nil {
			return pulumi.StringOutput{}, err
		}
	}

	if _, err := cloudwatch.NewMetricAlarm(p.ctx, name+"-events-anomaly", &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(p.physical("events-anomaly")),
		AlarmDescription:   pulumi.String("Events per minute left the band CloudWatch expects from their history"),
		ComparisonOperator: pulumi.String("LessThanLowerOrGreaterThanUpperThreshold"),
		EvaluationPeriods:  pulumi.Int(5),
		DatapointsToAlarm:  pulumi.Int(3),
		ThresholdMetricId:  pulumi.String("band"),
		TreatMissingData:   pulumi.String("ignore"),
		MetricQueries: cloudwatch.MetricAlarmMetricQueryArray{
			&cloudwatch.MetricAlarmMetricQueryArgs{
				Id:         pulumi.String("events"),
				ReturnData: pulumi.Bool(true),
				Metric: &cloudwatch.MetricAlarmMetricQueryMetricArgs{
					// Events, not Kinesis records: a record carries 1-500
					// events of one session, so IncomingRecords counts sessions.
					Namespace: pulumi.String(streamrouter.Namespace), MetricName: pulumi.String("EventsOut"),
					Dimensions: fn, Period: pulumi.Int(60), Stat: pulumi.String("Sum"),
				},
			},
			&cloudwatch.MetricAlarmMetricQueryArgs{
				Id:         pulumi.String("band"),
				Expression: pulumi.Sprintf("ANOMALY_DETECTION_BAND(events, %g)", p.a.Alarms.AnomalyBandWidth),
				Label:      pulumi.String("expected events per minute"),
				ReturnData: pulumi.Bool(true),
			},
		},
		AlarmActions: actions,
		OkActions:    actions,
		Tags:         p.tags,
	}, p.parent); err != nil {
		return pulumi.StringOutput{}, err
	}
	return topic.Arn, nil
}

package pack

import (
	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const typeCompositeAlarm = "aws:cloudwatch/compositeAlarm:CompositeAlarm"

// cloudwatchAlarmActions: an alarm that notifies nobody, or whose actions
// are switched off, goes off unseen.
var cloudwatchAlarmActions = resourcePolicy{
	name:        "cloudwatch-alarm-actions",
	description: "CloudWatch alarms have alarm actions, and their actions are enabled.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		if r.Type != typeMetricAlarm && r.Type != typeCompositeAlarm {
			return
		}
		if v := at(r.Properties, "actionsEnabled"); !v.IsComputed() {
			if on, ok := boolOf(v); ok && !on {
				report("actionsEnabled is false: the alarm changes state and tells nobody")
			}
		}
		if v := at(r.Properties, "alarmActions"); !isSet(v) {
			report("alarmActions is " + describe(v) + ": name the topic (or other action) that hears of the alarm")
		}
	},
}

// alarmNotifies tells whether an alarm acts when it fires: its actions are
// enabled (the default) and it has alarm actions.
func alarmNotifies(alarm policyx.AnalyzerResource) link {
	enabled, actions := at(alarm.Properties, "actionsEnabled"), at(alarm.Properties, "alarmActions")
	if enabled.IsComputed() || actions.IsComputed() {
		return maybeLinked
	}
	if on, ok := boolOf(enabled); ok && !on {
		return unlinked
	}
	if len(elements(actions)) == 0 {
		return unlinked
	}
	return linked
}

// alarmMetric is one metric an alarm reads: its own (metricName, namespace,
// dimensions), or one of its metricQueries' metric. prop is the top-level
// property its dimensions' dependencies are recorded under.
type alarmMetric struct {
	prop     string
	metric   property.Map
	computed bool // a metric query that is not known yet
}

func alarmMetrics(alarm policyx.AnalyzerResource) []alarmMetric {
	out := []alarmMetric{{prop: "dimensions", metric: alarm.Properties}}
	queries := at(alarm.Properties, "metricQueries")
	if queries.IsComputed() {
		return append(out, alarmMetric{computed: true})
	}
	for _, q := range elements(queries) {
		qm, _ := mapOf(q)
		metric := at(qm, "metric")
		if q.IsComputed() || metric.IsComputed() {
			out = append(out, alarmMetric{computed: true})
			continue
		}
		if mm, ok := mapOf(metric); ok {
			out = append(out, alarmMetric{prop: "metricQueries", metric: mm})
		}
	}
	return out
}

// watches tells whether an alarm that notifies someone reads the metric
// name in namespace with dimensions that dims accepts.
func watches(alarm policyx.AnalyzerResource, name, namespace string, dims func(m alarmMetric) link) link {
	notifies := alarmNotifies(alarm)
	if notifies == unlinked {
		return unlinked
	}
	result := unlinked
	for _, m := range alarmMetrics(alarm) {
		l := maybeLinked
		if !m.computed {
			l = m.reads(name, namespace, dims)
		}
		switch {
		case l == linked:
			return notifies
		case l == maybeLinked:
			result = maybeLinked
		}
	}
	return result
}

func (m alarmMetric) reads(name, namespace string, dims func(m alarmMetric) link) link {
	for key, want := range map[string]string{"metricName": name, "namespace": namespace} {
		v := at(m.metric, key)
		if v.IsComputed() {
			return maybeLinked
		}
		if s, _ := stringOf(v); s != want {
			return unlinked
		}
	}
	return dims(m)
}

// dimension is one dimension's value of the metric.
func (m alarmMetric) dimension(key string) property.Value {
	return at(m.metric, "dimensions", key)
}

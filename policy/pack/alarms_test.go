package pack

import "testing"

func TestCloudWatchAlarmActions(t *testing.T) {
	const topic = "arn:aws:sns:us-east-1:123456789012:alarms"
	mute := res(typeMetricAlarm, "mute", map[string]any{"metricName": "Errors", "namespace": "AWS/Lambda"})
	off := res(typeMetricAlarm, "off", map[string]any{"alarmActions": []any{topic}, "actionsEnabled": false})
	okOnly := res(typeCompositeAlarm, "ok-only", map[string]any{"alarmRule": "ALARM(a)", "okActions": []any{topic}, "alarmActions": []any{}})
	runCases(t, "cloudwatch-alarm-actions", "mandatory", []policyCase{
		{name: "alarm actions, enabled by default or explicitly", resources: []Resource{
			res(typeMetricAlarm, "errors", map[string]any{"alarmActions": []any{topic}}),
			res(typeCompositeAlarm, "both", map[string]any{"alarmRule": "ALARM(a)", "alarmActions": []any{topic}, "actionsEnabled": true}),
		}},
		{name: "no actions", resources: []Resource{mute, okOnly}, want: []expected{
			{mute.URN, "alarmActions is not set"}, {okOnly.URN, "alarmActions is an empty list"}}},
		{name: "actions disabled", resources: []Resource{off}, want: []expected{{off.URN, "actionsEnabled is false"}}},
		{name: "unknown values", resources: []Resource{
			res(typeMetricAlarm, "a", map[string]any{"alarmActions": unknown, "actionsEnabled": unknown}),
			res(typeMetricAlarm, "b", map[string]any{"alarmActions": []any{unknown}}),
		}},
	})
}

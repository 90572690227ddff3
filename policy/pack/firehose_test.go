package pack

import "testing"

// lakeStream is a delivery stream configured the way the data lake needs.
func lakeStream(name string, s3 map[string]any) Resource {
	all := map[string]any{
		"bucketArn":         "arn:aws:s3:::lake",
		"bufferingSize":     128,
		"bufferingInterval": 300,
		"compressionFormat": "UNCOMPRESSED",
		"errorOutputPrefix": "errors/!{firehose:error-output-type}/",
		"dataFormatConversionConfiguration": map[string]any{
			"outputFormatConfiguration": map[string]any{"serializer": map[string]any{
				"parquetSerDe": map[string]any{"compression": "SNAPPY"},
			}},
		},
	}
	for k, v := range s3 {
		all[k] = v
	}
	return res(typeFirehoseDeliveryStream, name, map[string]any{"destination": "extended_s3", "extendedS3Configuration": all})
}

func TestFirehoseBuffering(t *testing.T) {
	bad := lakeStream("chatty", map[string]any{"bufferingSize": 5, "bufferingInterval": 60})
	runCases(t, "firehose-buffering", "advisory", []policyCase{
		{name: "compliant: big buffer, long interval, defaults", resources: []Resource{
			lakeStream("big", map[string]any{"bufferingInterval": 60}),
			lakeStream("long", map[string]any{"bufferingSize": 5, "bufferingInterval": 900}),
			lakeStream("defaults", map[string]any{"bufferingSize": nil, "bufferingInterval": nil}),
		}},
		{name: "small and frequent", resources: []Resource{bad}, want: []expected{
			{bad.URN, "extendedS3Configuration.bufferingSize is 5 MB and bufferingInterval 60 s"},
		}},
		{name: "unknown values", resources: []Resource{
			lakeStream("a", map[string]any{"bufferingSize": unknown, "bufferingInterval": 60}),
			res(typeFirehoseDeliveryStream, "b", map[string]any{"extendedS3Configuration": unknown}),
		}},
	})
}

func TestFirehoseParquetConversion(t *testing.T) {
	json := lakeStream("json", map[string]any{"dataFormatConversionConfiguration": nil, "errorOutputPrefix": nil})
	orc := lakeStream("orc", map[string]any{"dataFormatConversionConfiguration": map[string]any{
		"outputFormatConfiguration": map[string]any{"serializer": map[string]any{"orcSerDe": map[string]any{}}},
	}})
	disabled := lakeStream("disabled", map[string]any{"dataFormatConversionConfiguration": map[string]any{
		"enabled": false,
	}})
	runCases(t, "firehose-parquet-conversion", "advisory", []policyCase{
		{name: "compliant", resources: []Resource{lakeStream("lake", nil)}},
		{name: "no conversion, no error prefix", resources: []Resource{json}, want: []expected{
			{json.URN, "extendedS3Configuration.dataFormatConversionConfiguration must be set and enabled"},
			{json.URN, "extendedS3Configuration.errorOutputPrefix is not set"},
		}},
		{name: "ORC instead of Parquet", resources: []Resource{orc}, want: []expected{
			{orc.URN, "serializer.parquetSerDe must be set"},
		}},
		{name: "conversion disabled", resources: []Resource{disabled}, want: []expected{
			{disabled.URN, "dataFormatConversionConfiguration must be set and enabled"},
		}},
		{name: "unknown values", resources: []Resource{
			lakeStream("a", map[string]any{"dataFormatConversionConfiguration": unknown, "errorOutputPrefix": unknown}),
			lakeStream("b", map[string]any{"dataFormatConversionConfiguration": map[string]any{
				"enabled": true, "outputFormatConfiguration": unknown,
			}}),
		}},
		{name: "other destinations are not checked", resources: []Resource{
			res(typeFirehoseDeliveryStream, "http", map[string]any{"destination": "http_endpoint"}),
		}},
	})
}

func TestFirehoseUncompressedWhenConverting(t *testing.T) {
	bad := lakeStream("gzip", map[string]any{"compressionFormat": "GZIP"})
	runCases(t, "firehose-uncompressed-when-converting", "advisory", []policyCase{
		{name: "compliant: uncompressed, unset, or GZIP without conversion", resources: []Resource{
			lakeStream("plain", nil),
			lakeStream("unset", map[string]any{"compressionFormat": nil}),
			lakeStream("json", map[string]any{"compressionFormat": "GZIP", "dataFormatConversionConfiguration": nil}),
		}},
		{name: "GZIP on top of Parquet", resources: []Resource{bad}, want: []expected{
			{bad.URN, `extendedS3Configuration.compressionFormat is "GZIP" while format conversion is on`},
		}},
		{name: "unknown values", resources: []Resource{
			lakeStream("a", map[string]any{"compressionFormat": unknown}),
			lakeStream("b", map[string]any{"compressionFormat": "GZIP", "dataFormatConversionConfiguration": map[string]any{
				"enabled": unknown,
			}}),
		}},
	})
}

// Issue 14, weakness 6: with format conversion or dynamic partitioning on,
// Firehose rejects a buffer under 64 MB, and an unset bufferingSize is the
// 5 MB default.
func TestFirehoseBufferSizeMinimum(t *testing.T) {
	unset := lakeStream("unset", map[string]any{"bufferingSize": nil})
	partitioned := lakeStream("partitioned", map[string]any{
		"bufferingSize": 32, "dataFormatConversionConfiguration": nil,
		"dynamicPartitioningConfiguration": map[string]any{"enabled": true},
	})
	runCases(t, "firehose-buffer-size-minimum", "mandatory", []policyCase{
		{name: "64 MB or more; small buffers without conversion or partitioning", resources: []Resource{
			lakeStream("lake", nil),
			lakeStream("floor", map[string]any{"bufferingSize": 64}),
			lakeStream("plain", map[string]any{"bufferingSize": nil, "dataFormatConversionConfiguration": nil}),
			lakeStream("conversion-off", map[string]any{"bufferingSize": 5,
				"dataFormatConversionConfiguration": map[string]any{"enabled": false},
				"dynamicPartitioningConfiguration":  map[string]any{"enabled": false}}),
		}},
		{name: "conversion with the default size", resources: []Resource{unset}, want: []expected{
			{unset.URN, "extendedS3Configuration.bufferingSize is not set (5 MB) while format conversion is on"},
		}},
		{name: "dynamic partitioning with 32 MB", resources: []Resource{partitioned}, want: []expected{
			{partitioned.URN, "extendedS3Configuration.bufferingSize is 32 MB while dynamic partitioning is on"},
		}},
		{name: "unknown values", resources: []Resource{
			lakeStream("a", map[string]any{"bufferingSize": unknown}),
			lakeStream("b", map[string]any{"bufferingSize": 5, "dataFormatConversionConfiguration": unknown}),
			lakeStream("c", map[string]any{"bufferingSize": 5, "dataFormatConversionConfiguration": nil,
				"dynamicPartitioningConfiguration": map[string]any{"enabled": unknown}}),
		}},
	})
}

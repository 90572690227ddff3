package pack

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/property"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/policyx"
)

const typeFirehoseDeliveryStream = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"

// extendedS3 returns a delivery stream's S3 destination settings; ok is false
// for other destinations and while they are unknown.
func extendedS3(r policyx.AnalyzerResource) (property.Map, bool) {
	if r.Type != typeFirehoseDeliveryStream {
		return property.Map{}, false
	}
	return mapOf(at(r.Properties, "extendedS3Configuration"))
}

var firehoseBuffering = resourcePolicy{
	name:        "firehose-buffering",
	description: "Firehose buffers enough data per S3 object to keep the lake's files few and large.",
	level:       advisory,
	settings: []setting{
		intSetting{
			name: "minBufferingSizeMb", description: "bufferingSize, in MB, that is enough on its own.",
			min: 1, max: 128, field: func(c *Config) *int { return &c.MinBufferingSizeMB },
		},
		intSetting{
			name: "minBufferingIntervalSeconds", description: "bufferingInterval, in seconds, that is enough on its own.",
			min: 0, max: 900, field: func(c *Config) *int { return &c.MinBufferingIntervalSeconds },
		},
	},
	validate: func(r policyx.AnalyzerResource, cfg Config, report func(string)) {
		s3, ok := extendedS3(r)
		if !ok {
			return
		}
		sizeValue, intervalValue := at(s3, "bufferingSize"), at(s3, "bufferingInterval")
		if sizeValue.IsComputed() || intervalValue.IsComputed() {
			return
		}
		size, ok := numberOf(sizeValue)
		if !ok {
			size = 5 // the Firehose defaults
		}
		interval, ok := numberOf(intervalValue)
		if !ok {
			interval = 300
		}
		if size >= float64(cfg.MinBufferingSizeMB) || interval >= float64(cfg.MinBufferingIntervalSeconds) {
			return
		}
		report(fmt.Sprintf("extendedS3Configuration.bufferingSize is %v MB and bufferingInterval %v s: raise "+
			"bufferingSize to %d MB or bufferingInterval to %d s, small files make Athena slow and S3 requests costly",
			size, interval, cfg.MinBufferingSizeMB, cfg.MinBufferingIntervalSeconds))
	},
}

// firehoseBufferSizeMinimum: Firehose refuses a delivery stream that
// converts records or partitions them dynamically with a buffer under 64 MB,
// and an unset bufferingSize is the 5 MB default, so the stream would fail
// to deploy.
var firehoseBufferSizeMinimum = resourcePolicy{
	name:        "firehose-buffer-size-minimum",
	description: "Firehose streams that convert records or partition them dynamically set bufferingSize to at least 64 MB, as Firehose requires.",
	level:       mandatory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		const floor = 64
		s3, ok := extendedS3(r)
		if !ok {
			return
		}
		convertingOn, _ := converting(s3) // unknown: cannot tell yet
		partitioning := at(s3, "dynamicPartitioningConfiguration", "enabled")
		partitioningOn, _ := boolOf(partitioning) // enabled defaults to false
		var why []string
		if convertingOn {
			why = append(why, "format conversion")
		}
		if partitioningOn {
			why = append(why, "dynamic partitioning")
		}
		sizeValue := at(s3, "bufferingSize")
		if len(why) == 0 || sizeValue.IsComputed() {
			return // off, or unknown; a known "on" is enough to judge
		}
		size, set := numberOf(sizeValue)
		if set && size >= floor {
			return
		}
		got := fmt.Sprintf("%v MB", size)
		if !set {
			got = describe(sizeValue) + " (5 MB)"
		}
		report(fmt.Sprintf("extendedS3Configuration.bufferingSize is %s while %s is on: Firehose requires at least %d MB then",
			got, strings.Join(why, " and "), floor))
	},
}

// converting reports whether record format conversion is on; known is false
// while that is unknown.
func converting(s3 property.Map) (on, known bool) {
	conversion := at(s3, "dataFormatConversionConfiguration")
	enabled := at(s3, "dataFormatConversionConfiguration", "enabled")
	if conversion.IsComputed() || enabled.IsComputed() {
		return false, false
	}
	if conversion.IsNull() {
		return false, true
	}
	b, ok := boolOf(enabled)
	return !ok || b, true // enabled defaults to true
}

var firehoseParquetConversion = resourcePolicy{
	name:        "firehose-parquet-conversion",
	description: "Firehose converts records to Parquet and writes failures under an error prefix.",
	level:       advisory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		s3, ok := extendedS3(r)
		if !ok {
			return
		}
		if on, known := converting(s3); known && !on {
			report("extendedS3Configuration.dataFormatConversionConfiguration must be set and enabled: " +
				"Athena scans Parquet far cheaper than JSON")
		} else if known {
			parquet := at(s3, "dataFormatConversionConfiguration", "outputFormatConfiguration", "serializer", "parquetSerDe")
			if !parquet.IsComputed() && parquet.IsNull() {
				report("extendedS3Configuration.dataFormatConversionConfiguration.outputFormatConfiguration." +
					"serializer.parquetSerDe must be set: the lake is Parquet")
			}
		}
		if prefix := at(s3, "errorOutputPrefix"); !isSet(prefix) {
			report("extendedS3Configuration.errorOutputPrefix is " + describe(prefix) +
				": records that fail conversion must land apart from the data")
		}
	},
}

var firehoseUncompressedWhenConverting = resourcePolicy{
	name:        "firehose-uncompressed-when-converting",
	description: "Firehose leaves S3 compression UNCOMPRESSED when it converts records; the serializer compresses.",
	level:       advisory,
	validate: func(r policyx.AnalyzerResource, _ Config, report func(string)) {
		s3, ok := extendedS3(r)
		if !ok {
			return
		}
		if on, known := converting(s3); !known || !on {
			return
		}
		v := at(s3, "compressionFormat")
		if s, _ := stringOf(v); v.IsComputed() || v.IsNull() || strings.EqualFold(s, "UNCOMPRESSED") {
			return
		}
		report("extendedS3Configuration.compressionFormat is " + describe(v) + " while format conversion is on: " +
			"set it to \"UNCOMPRESSED\" and compress inside Parquet (parquetSerDe.compression)")
	},
}

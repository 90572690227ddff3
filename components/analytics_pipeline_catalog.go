package components

import (
	"embed"
	"path"
	"strings"

	"github.com/manga-assist/manga-assist-data/internal/analytics"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/athena"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/glue"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// partitionKeys of the events table: zero-padded strings of the event's UTC
// time, written by Firehose's dynamic partitioning (rawPrefix) and projected.
var partitionKeys = []string{"year", "month", "day", "hour"}

// catalog is the Glue database and the events table, with the columns of
// analytics.Event and partition projection on year/month/day/hour: new hours
// are queryable at once, with no crawler and no MSCK REPAIR TABLE.
func (p *pipeline) catalog(name string) (*glue.CatalogDatabase, *glue.CatalogTable, error) {
	database, err := glue.NewCatalogDatabase(p.ctx, name+"-analytics", &glue.CatalogDatabaseArgs{
		Name:        pulumi.String(glueName(p.a.Name, p.ctx.Stack())),
		Description: pulumi.String("Analytics events of the sessions table"),
		Tags:        p.tags,
	}, p.parent)
	if err != nil {
		return nil, nil, err
	}
	var columns glue.CatalogTableStorageDescriptorColumnArray
	for _, col := range analytics.Columns() {
		columns = append(columns, &glue.CatalogTableStorageDescriptorColumnArgs{
			Name: pulumi.String(col.Name), Type: pulumi.String(col.Type), Comment: pulumi.String(col.Comment)})
	}
	var partitions glue.CatalogTablePartitionKeyArray
	for _, key := range partitionKeys {
		partitions = append(partitions, &glue.CatalogTablePartitionKeyArgs{Name: pulumi.String(key), Type: pulumi.String("string")})
	}
	raw := pulumi.Sprintf("s3://%s/raw/", p.a.DataBucket.Name)
	table, err := glue.NewCatalogTable(p.ctx, name+"-events", &glue.CatalogTableArgs{
		DatabaseName:  database.Name,
		Name:          pulumi.String(EventsTableName),
		Description:   pulumi.String("One row per change of an item of the sessions table"),
		TableType:     pulumi.String("EXTERNAL_TABLE"),
		PartitionKeys: partitions,
		Parameters: pulumi.StringMap{
			"EXTERNAL":                  pulumi.String("TRUE"),
			"classification":            pulumi.String("parquet"),
			"parquet.compression":       pulumi.String("SNAPPY"),
			"projection.enabled":        pulumi.String("true"),
			"projection.year.type":      pulumi.String("integer"),
			"projection.year.range":     pulumi.Sprintf("%d,2099", p.a.ProjectionStartYear),
			"projection.month.type":     pulumi.String("integer"),
			"projection.month.range":    pulumi.String("1,12"),
			"projection.month.digits":   pulumi.String("2"),
			"projection.day.type":       pulumi.String("integer"),
			"projection.day.range":      pulumi.String("1,31"),
			"projection.day.digits":     pulumi.String("2"),
			"projection.hour.type":      pulumi.String("integer"),
			"projection.hour.range":     pulumi.String("0,23"),
			"projection.hour.digits":    pulumi.String("2"),
			"storage.location.template": pulumi.Sprintf("%syear=${year}/month=${month}/day=${day}/hour=${hour}/", raw),
		},
		StorageDescriptor: &glue.CatalogTableStorageDescriptorArgs{
			Location:     raw,
			InputFormat:  pulumi.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"),
			OutputFormat: pulumi.String("org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"),
			SerDeInfo: &glue.CatalogTableStorageDescriptorSerDeInfoArgs{
				SerializationLibrary: pulumi.String("org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"),
			},
			Columns: columns,
		},
	}, p.parent)
	return database, table, err
}

//go:embed queries/*.sql
var queries embed.FS

// athena is the workgroup (its settings enforced, results encrypted in the
// results bucket, a cap on bytes scanned) and the design's named queries.
func (p *pipeline) athena(name string, database *glue.CatalogDatabase) (*athena.Workgroup, error) {
	results := p.a.QueryResultsBucket
	workgroup, err := athena.NewWorkgroup(p.ctx, name+"-analytics", &athena.WorkgroupArgs{
		Name:        pulumi.String(p.physical("analytics")),
		Description: pulumi.String("Queries over the analytics events"),
		// Without it `pulumi destroy` fails ("WorkGroup is not empty") once
		// anyone has run a query; dev stacks set it with forceDestroyBuckets.
		ForceDestroy: pulumi.Bool(p.a.ForceDestroy),
		Configuration: &athena.WorkgroupConfigurationArgs{
			EnforceWorkgroupConfiguration:   pulumi.Bool(true),
			PublishCloudwatchMetricsEnabled: pulumi.Bool(true),
			BytesScannedCutoffPerQuery:      pulumi.Int(p.a.ScanLimitBytes),
			EngineVersion: &athena.WorkgroupConfigurationEngineVersionArgs{
				SelectedEngineVersion: pulumi.String("Athena engine version 3"),
			},
			ResultConfiguration: &athena.WorkgroupConfigurationResultConfigurationArgs{
				OutputLocation: pulumi.Sprintf("s3://%s/athena/", results.Name),
				EncryptionConfiguration: &athena.WorkgroupConfigurationResultConfigurationEncryptionConfigurationArgs{
					EncryptionOption: pulumi.String("SSE_KMS"),
					KmsKeyArn:        results.KMSKeyArn,
				},
			},
		},
		Tags: p.tags,
	}, p.parent)
	if err != nil {
		return nil, err
	}
	files, err := queries.ReadDir("queries")
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		sql, err := queries.ReadFile(path.Join("queries", f.Name()))
		if err != nil {
			return nil, err
		}
		queryName := strings.TrimSuffix(f.Name(), ".sql")
		description, _, _ := strings.Cut(strings.TrimPrefix(string(sql), "-- "), "\n")
		if _, err := athena.NewNamedQuery(p.ctx, name+"-"+queryName, &athena.NamedQueryArgs{
			Name:        pulumi.String(queryName),
			Description: pulumi.String(description),
			Database:    database.Name,
			Workgroup:   workgroup.Name,
			Query:       pulumi.String(string(sql)),
		}, p.parent); err != nil {
			return nil, err
		}
	}
	return workgroup, nil
}

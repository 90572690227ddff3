// Command sessions-table is an example of another team's stack reusing a
// manga-assist-data component: its own sessions table, with TTL and a key it
// already has. Its test runs it under the same mocks as the offline preview.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/manga-assist/manga-assist-data/components"
)

func main() {
	pulumi.Run(program)
}

func program(ctx *pulumi.Context) error {
	cfg := config.New(ctx, "")
	var key pulumi.StringInput
	if arn := cfg.Get("kmsKeyArn"); arn != "" {
		key = pulumi.String(arn)
	}
	table, err := components.NewSessionsTable(ctx, "shop-sessions", &components.SessionsTableArgs{
		Name:         "shop-sessions-" + ctx.Stack(),
		TTLAttribute: "expires_at",
		KMSKeyARN:    key,
		Tags:         map[string]string{"project": "shop", "environment": ctx.Stack()},
	})
	if err != nil {
		return err
	}
	ctx.Export("tableName", table.TableName)
	ctx.Export("streamArn", table.StreamArn)
	return nil
}

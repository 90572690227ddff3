// Command manga-assist-data is the Pulumi program of the MangaAssist
// conversation-data platform. Run it with `pulumi up`; preview it offline with
// `make preview STACK=dev`. The wiring lives in internal/program so that the
// offline preview runs exactly the same code.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/manga-assist/manga-assist-data/internal/program"
)

func main() {
	pulumi.Run(program.Run)
}

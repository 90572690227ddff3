package stackconfig

import (
	"slices"
	"strings"
)

// Regions are the AWS regions a stack may name. An unknown name is far more
// often a typo than a region launched after this list was written; add new
// regions here when they launch.
var Regions = []string{
	"af-south-1",
	"ap-east-1", "ap-east-2",
	"ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
	"ap-south-1", "ap-south-2",
	"ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4", "ap-southeast-5", "ap-southeast-7",
	"ca-central-1", "ca-west-1",
	"cn-north-1", "cn-northwest-1",
	"eu-central-1", "eu-central-2",
	"eu-north-1",
	"eu-south-1", "eu-south-2",
	"eu-west-1", "eu-west-2", "eu-west-3",
	"il-central-1",
	"me-central-1", "me-south-1",
	"mx-central-1",
	"sa-east-1",
	"us-east-1", "us-east-2",
	"us-gov-east-1", "us-gov-west-1",
	"us-west-1", "us-west-2",
}

// IsRegion reports whether name is a known AWS region.
func IsRegion(name string) bool { return slices.Contains(Regions, name) }

// directionCodes shorten the middle words of region names.
var directionCodes = map[string]string{
	"north": "n", "south": "s", "east": "e", "west": "w", "central": "c",
	"northeast": "ne", "northwest": "nw", "southeast": "se", "southwest": "sw", "gov": "g",
}

// RegionCode is a short, unique code of a region, for names that must fit a
// limit and differ per region (standby buckets): us-west-2 is usw2,
// ap-southeast-2 apse2, us-gov-west-1 usgw1. At most 6 characters for every
// known region; a test checks that no two collide.
func RegionCode(region string) string {
	parts := strings.Split(region, "-")
	if len(parts) < 3 {
		return region
	}
	code := parts[0]
	for _, word := range parts[1 : len(parts)-1] {
		short, ok := directionCodes[word]
		if !ok {
			short = word[:1]
		}
		code += short
	}
	return code + parts[len(parts)-1]
}

mock_provider "aws" {}

variables {
  name         = "atrium-test"
  region       = "us-east-1"
  cidr         = "10.60.0.0/16"
  azs          = ["us-east-1a", "us-east-1b", "us-east-1c"]
  cluster_name = "atrium-test"
}

run "three_tiers_in_three_zones_without_overlap" {
  command = plan

  assert {
    condition     = length(aws_subnet.public) == 3 && length(aws_subnet.app) == 3 && length(aws_subnet.data) == 3
    error_message = "Document 003: public, application and data subnets in each of three zones."
  }
  assert {
    condition     = length(distinct(concat(aws_subnet.public[*].cidr_block, aws_subnet.app[*].cidr_block, aws_subnet.data[*].cidr_block))) == 9
    error_message = "Subnet ranges must be distinct."
  }
  assert {
    condition     = alltrue([for s in aws_subnet.data : s.map_public_ip_on_launch != true])
    error_message = "Data subnets never hand out public addresses."
  }
  assert {
    condition     = length(aws_nat_gateway.this) == 3
    error_message = "One NAT gateway per zone by default (document 003)."
  }
}

output "vpc_id" {
  description = "Id of the VPC."
  value       = aws_vpc.this.id
}

output "vpc_cidr" {
  description = "The VPC's address range."
  value       = aws_vpc.this.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets (load balancers, NAT gateways)."
  value       = aws_subnet.public[*].id
}

output "app_subnet_ids" {
  description = "Private application subnets (EKS nodes and pods)."
  value       = aws_subnet.app[*].id
}

output "data_subnet_ids" {
  description = "Private data subnets without internet routes (RDS, ElastiCache)."
  value       = aws_subnet.data[*].id
}

output "app_subnet_cidrs" {
  description = "Address ranges of the application subnets, for data-tier security groups."
  value       = aws_subnet.app[*].cidr_block
}

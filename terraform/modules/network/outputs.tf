output "vpc_id" {
  description = "ID of the VPC"
  value       = aws_vpc.this.id
}

output "public_subnet_ids" {
  description = "IDs of the public subnets (load balancer, NAT)"
  value       = [for subnet in aws_subnet.public : subnet.id]
}

output "private_subnet_ids" {
  description = "IDs of the private subnets (every instance)"
  value       = [for subnet in aws_subnet.private : subnet.id]
}

output "security_group_ids" {
  description = "Security group IDs by tier (alb, web, annotator, workers)"
  value       = { for tier, group in aws_security_group.this : tier => group.id }
}

output "vpc_endpoint_ids" {
  description = "Gateway endpoint IDs by service (s3, dynamodb)"
  value       = { for service, endpoint in aws_vpc_endpoint.this : service => endpoint.id }
}

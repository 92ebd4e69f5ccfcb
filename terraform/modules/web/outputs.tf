output "url" {
  description = "The app's public URL (GAS_WEB_URL)"
  value       = local.url
}

output "alb_dns_name" {
  description = "DNS name of the load balancer (point a CNAME or alias here)"
  value       = aws_lb.this.dns_name
}

output "alb_zone_id" {
  description = "Hosted zone of the load balancer, for a Route 53 alias"
  value       = aws_lb.this.zone_id
}

output "alb_arn_suffix" {
  description = "ARN suffix of the load balancer: the LoadBalancer dimension of its CloudWatch metrics"
  value       = aws_lb.this.arn_suffix
}

output "target_group_arn_suffix" {
  description = "ARN suffix of the target group: the TargetGroup dimension of its CloudWatch metrics"
  value       = aws_lb_target_group.this.arn_suffix
}

output "autoscaling_group_name" {
  description = "Name of the web auto scaling group"
  value       = module.instances.autoscaling_group_name
}

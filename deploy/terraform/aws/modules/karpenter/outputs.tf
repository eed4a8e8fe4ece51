output "node_role_name" {
  description = "IAM role for nodes Karpenter launches; the EC2NodeClass `role` field."
  value       = aws_iam_role.node.name
}

output "controller_role_arn" {
  description = "IRSA role for the Karpenter controller (Helm value serviceAccount.annotations)."
  value       = aws_iam_role.controller.arn
}

output "interruption_queue_name" {
  description = "SQS queue for interruption events (Helm value settings.interruptionQueue)."
  value       = aws_sqs_queue.interruption.name
}

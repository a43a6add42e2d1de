"""Lambda functions the stack ships as source (boto3 only, no packaging step)."""

"""What Instagram and Facebook share: Meta's Graph API (error envelope, rate-limit headers, calls)."""

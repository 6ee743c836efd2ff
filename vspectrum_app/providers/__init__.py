"""VLM providers: configuration, SDK clients, rate limits and retries."""
